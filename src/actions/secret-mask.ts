/**
 * Hides secrets in lines that are about to be shown (plan diffs, errors). Config files mix
 * connection settings with passwords, and a plan is printed, journaled and pasted into chats.
 */

const MASK = '***';

/** `user:pass@tcp(` inside a Go-style DSN (the password may hold `:`, `@` or `/`). */
const DSN_CREDENTIALS = /((?:mysql|mariadb):)?([A-Za-z0-9_.-]+):([^\s"']*)@(tcp|udp|unix)\(/g;
/** `"Password": "x"`, `password: x`, `DB_PASS=x` … the key names a secret. */
const SECRET_KEY = /^(\s*(?:export\s+)?["']?[A-Za-z0-9_.-]*(?:pass|pwd|secret|token)[A-Za-z0-9_.-]*["']?\s*[:=]\s*)(.*?)(,?\s*)$/i;

/** redis.conf and similar space-separated configs: `requirepass x`, `masterauth x`. */
const SPACED_SECRET = /^(\s*(?:requirepass|masterauth|masteruser-password)\s+)(\S.*)$/i;

export function maskSecrets(line: string): string {
  if (SPACED_SECRET.test(line)) return line.replace(SPACED_SECRET, `$1${MASK}`);
  let masked = line.replace(DSN_CREDENTIALS, (_all, type: string | undefined, user: string, _pass: string, net: string) => `${type ?? ''}${user}:${MASK}@${net}(`);
  const keyed = SECRET_KEY.exec(masked);
  if (keyed && keyed[2] !== '' && !/^[{[]$/.test(keyed[2]!)) masked = `${keyed[1]}${MASK}${keyed[3]}`;
  return masked;
}
