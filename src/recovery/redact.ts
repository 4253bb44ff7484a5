/**
 * What the journal keeps out of itself. Actions are written so that their `Change`s carry
 * no secret, but a journal outlives the run, is copied around and printed, so every text
 * that enters it passes through here as a second line of defence.
 *
 * The rule:
 * 1. A value whose key names a secret is replaced by `***`: keys matching SECRET_KEY
 *    (password, passwd, pwd, secret, token, api key, private key, credential, auth) in
 *    objects, in `key=value` / `key: value` / `"key": "value"` text, and SQL parameters
 *    bound to such a column (`password = ?`, `IDENTIFIED BY ?`, `INSERT (…, password) VALUES (…, ?)`).
 * 2. The password part of connection strings is replaced: `scheme://user:pass@host` and
 *    GoFrame's `mysql:user:pass@tcp(host:port)/db`.
 * 3. A command's `-pSECRET` / `--password=SECRET` style flags are replaced.
 * What cannot be recognised cannot be hidden: never put a secret in a step title, an error
 * message or a scenario input.
 */
import type { Change } from '../actions/action.ts';

export const MASK = '***';

const SECRET_WORD = String.raw`(?:password|passwd|pwd|pass|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credentials?|auth)`;
const SECRET_KEY = new RegExp(`^[A-Za-z0-9_.-]*${SECRET_WORD}[A-Za-z0-9_.-]*$`, 'i');
/** `"Password": "x"`, `password: x`, `DB_PASS=x`, `--password=x`, `IDENTIFIED BY 'x'`. */
const KEYED_TEXT = new RegExp(
  String.raw`(["']?[A-Za-z0-9_.-]*${SECRET_WORD}[A-Za-z0-9_.-]*["']?\s*[:=]\s*|\bidentified\s+by\s+)("[^"]*"|'[^']*'|[^\s,;}"']+)`,
  'gi',
);
/** `scheme://user:pass@`, and GoFrame/Go DSNs `[mysql:]user:pass@tcp(` (the password may hold `:` and `@`). */
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/"']+:)([^\s@"']+)(@)/gi;
const DSN_CREDENTIALS = /((?:\b(?:mysql|mariadb|pgsql|postgres|mssql|clickhouse):)?[A-Za-z0-9_.-]+:)([^\s"']+?)(@(?:tcp|udp|unix)\()/g;
/** `mysql … -pSECRET`; only for MySQL/MariaDB clients, `mkdir -p` must stay readable. */
const SHORT_PASSWORD_FLAG = /(\b(?:mysql|mariadb|mysqldump|mysqladmin|mariadb-[a-z]+|mysql_[a-z]+)\b[^|;&\n]*?\s-p)(\S+)/g;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export function redactText(text: string): string {
  return text
    .replace(URL_CREDENTIALS, (_m, head: string, _p: string, at: string) => `${head}${MASK}${at}`)
    .replace(DSN_CREDENTIALS, (_m, head: string, _p: string, tail: string) => `${head}${MASK}${tail}`)
    .replace(KEYED_TEXT, (all, head: string, value: string) => (value === '?' ? all : `${head}${quoteLike(value)}`))
    .replace(SHORT_PASSWORD_FLAG, (_m, flag: string) => `${flag}${MASK}`);
}

function quoteLike(value: string): string {
  const quote = value[0] === '"' || value[0] === "'" ? value[0] : '';
  return `${quote}${MASK}${quote}`;
}

/** Deep copy with secret-keyed values masked and every string passed through `redactText`. */
export function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map(redactValue);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = isSecretKey(key) ? MASK : redactValue(inner);
    return out;
  }
  return value;
}

export function redactChange(change: Change): Change {
  switch (change.kind) {
    case 'command':
      return { ...change, command: redactText(change.command) };
    case 'file':
      return { ...change, path: change.path, diff: redactText(change.diff) };
    case 'note':
      return { ...change, text: redactText(change.text) };
    case 'sql': {
      const secretSlots = secretParameterSlots(change.sql);
      const params = change.params.map((p, i) => (secretSlots.has(i) ? MASK : redactValue(p)));
      return { ...change, sql: redactText(change.sql), params };
    }
  }
}

/** Positions of `?` placeholders bound to a column or clause that names a secret. */
export function secretParameterSlots(sql: string): Set<number> {
  const slots = new Set<number>();
  const placeholders: number[] = [];
  for (let i = 0; i < sql.length; i++) if (sql[i] === '?') placeholders.push(i);
  placeholders.forEach((at, slot) => {
    const before = sql.slice(Math.max(0, at - 80), at);
    if (new RegExp(`${SECRET_WORD}[A-Za-z0-9_]*\`?\\s*(=|<=>)\\s*$`, 'i').test(before)) slots.add(slot);
    if (/identified\s+(by|via\s+\w+\s+using)\s*(password\s*\(\s*)?$/i.test(before)) slots.add(slot);
  });
  // INSERT INTO t (a, password) VALUES (?, ?): map columns to placeholders by position.
  const insert = /insert\s+into\s+\S+\s*\(([^)]*)\)\s*values\s*\(([^)]*)\)/i.exec(sql);
  if (insert) {
    const columns = insert[1]!.split(',').map((c) => c.trim().replace(/[`"]/g, ''));
    const firstSlot = placeholders.filter((at) => at < insert.index + insert[0].indexOf(insert[2]!)).length;
    let slot = firstSlot;
    insert[2]!.split(',').forEach((value, i) => {
      if (value.trim() !== '?') return;
      if (isSecretKey(columns[i] ?? '')) slots.add(slot);
      slot++;
    });
  }
  return slots;
}
