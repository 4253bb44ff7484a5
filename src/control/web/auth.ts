/**
 * Who may use the dashboard: users with scrypt-hashed passwords and their sessions, in
 * lifeboat's state file (migration 4), and the brake on guessing.
 *
 * A session is a random token in an HttpOnly cookie; the state keeps only its SHA-256, so a
 * copy of the state file opens no session. Each session has its own CSRF token, which every
 * mutating request must echo in a header (the page reads it from its own HTML). Five wrong
 * passwords for a name or from an address in a quarter of an hour slow every further try
 * down: refused outright for a delay that doubles with each failure, whatever the password.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { openState, type StateDb } from '../../state/db.ts';

/** scrypt with 64 MiB of memory per hash (N 2^16, r 8): the memory-hard part. */
const SCRYPT = { N: 1 << 16, r: 8, p: 1, maxmem: 128 * 1024 * 1024 } as const;
const KEY_LENGTH = 32;
export const SESSION_HOURS = 12;
export const FREE_FAILURES = 5;
const FAILURE_WINDOW_MS = 15 * 60_000;
const MAX_DELAY_MS = 5 * 60_000;
const USER_NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

export class AuthError extends Error {
  override name = 'AuthError';
  constructor(readonly code: 'bad-name' | 'weak-password' | 'exists' | 'no-such-user', message: string) {
    super(message);
  }
}

function scrypt(password: string, salt: Buffer, o: ScryptOptions = SCRYPT): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, KEY_LENGTH, o, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash` (base64): the parameters travel with the hash, so they can grow. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const want = Buffer.from(hash, 'base64');
  const got = await scrypt(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem });
  return got.length === want.length && timingSafeEqual(got, want);
}

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

export interface Session {
  user: string;
  csrf: string;
  expiresAt: number;
}

/** A hash to compare against when the name is unknown: the answer takes as long either way. */
let decoy: Promise<string> | undefined;

export class WebAuth {
  private readonly failures = new Map<string, { count: number; first: number; last: number }>();

  private constructor(private readonly db: StateDb, private readonly now: () => number) {}

  static open(statePath: string, now: () => number = Date.now): WebAuth {
    return new WebAuth(openState(statePath), now);
  }

  close(): void {
    this.db.close();
  }

  users(): Array<{ name: string; createdAt: number }> {
    return (this.db.prepare('SELECT name, created_at AS createdAt FROM web_users ORDER BY name').all() as Array<{ name: string; createdAt: number }>);
  }

  async addUser(name: string, password: string, options: { replace?: boolean } = {}): Promise<void> {
    if (!USER_NAME.test(name)) throw new AuthError('bad-name', `user name ${JSON.stringify(name)}: letters, digits and _.@- only, at most 64`);
    if (password.length < 12) throw new AuthError('weak-password', 'the password must have at least 12 characters');
    const exists = this.db.prepare('SELECT 1 FROM web_users WHERE name = ?').get(name) !== undefined;
    if (exists && !options.replace) throw new AuthError('exists', `user ${name} exists: give --replace to set a new password`);
    const hash = await hashPassword(password);
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO web_users (name, hash, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET hash = excluded.hash').run(name, hash, this.now());
      // A new password ends the sessions opened with the old one.
      if (exists) this.db.prepare('DELETE FROM web_sessions WHERE user = ?').run(name);
    })();
  }

  removeUser(name: string): void {
    const r = this.db.prepare('DELETE FROM web_users WHERE name = ?').run(name);
    if (r.changes === 0) throw new AuthError('no-such-user', `no user ${name}`);
  }

  /** Milliseconds this name or address must still wait before a try counts; 0 when it may try. */
  waitMs(name: string, address: string): number {
    const now = this.now();
    let wait = 0;
    for (const key of [`u:${name}`, `a:${address}`]) {
      const f = this.failures.get(key);
      if (!f || now - f.first > FAILURE_WINDOW_MS || f.count < FREE_FAILURES) continue;
      const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** (f.count - FREE_FAILURES));
      wait = Math.max(wait, f.last + delay - now);
    }
    return Math.max(0, wait);
  }

  private failed(name: string, address: string): void {
    const now = this.now();
    // Guesses under ever new names must not grow this without bound: old windows go.
    if (this.failures.size > 10_000) for (const [key, f] of this.failures) if (now - f.first > FAILURE_WINDOW_MS) this.failures.delete(key);
    for (const key of [`u:${name}`, `a:${address}`]) {
      const f = this.failures.get(key);
      if (!f || now - f.first > FAILURE_WINDOW_MS) this.failures.set(key, { count: 1, first: now, last: now });
      else this.failures.set(key, { count: f.count + 1, first: f.first, last: now });
    }
  }

  /**
   * A session token for `name` when the password is right. The caller checks `waitMs`
   * first: a try while it is above 0 is refused without looking at the password.
   */
  async login(name: string, password: string, address: string): Promise<{ token: string; session: Session } | undefined> {
    const row = USER_NAME.test(name) ? (this.db.prepare('SELECT hash FROM web_users WHERE name = ?').get(name) as { hash: string } | undefined) : undefined;
    decoy ??= hashPassword(randomBytes(16).toString('hex'));
    const ok = await passwordMatches(password, row?.hash ?? (await decoy));
    if (!row || !ok) {
      this.failed(name, address);
      return undefined;
    }
    for (const key of [`u:${name}`, `a:${address}`]) this.failures.delete(key);
    const token = randomBytes(32).toString('base64url');
    const session: Session = { user: name, csrf: randomBytes(24).toString('base64url'), expiresAt: this.now() + SESSION_HOURS * 3600_000 };
    this.db.prepare('DELETE FROM web_sessions WHERE expires_at < ?').run(this.now());
    this.db.prepare('INSERT INTO web_sessions (token_hash, user, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)').run(tokenHash(token), name, session.csrf, this.now(), session.expiresAt);
    return { token, session };
  }

  session(token: string | undefined): Session | undefined {
    if (!token) return undefined;
    const row = this.db.prepare('SELECT user, csrf, expires_at AS expiresAt FROM web_sessions WHERE token_hash = ?').get(tokenHash(token)) as Session | undefined;
    if (!row || row.expiresAt < this.now()) return undefined;
    return row;
  }

  logout(token: string | undefined): void {
    if (token) this.db.prepare('DELETE FROM web_sessions WHERE token_hash = ?').run(tokenHash(token));
  }
}

/** Whether the CSRF token a request sent is its session's (compared in constant time). */
export function csrfMatches(session: Session, sent: string | undefined): boolean {
  if (!sent) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(sent);
  return a.length === b.length && timingSafeEqual(a, b);
}
