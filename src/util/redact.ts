/**
 * THE secret masker: every text lifeboat shows or keeps — plan diffs, `--plan` and `--json`
 * output, logs, error messages, the journal — passes through here. Actions are written so
 * that what they report carries no secret, but a plan is printed, journaled and pasted into
 * chats, so this is the line of defence they all share (one rule, one set of tests).
 *
 * The rule:
 * 1. A value whose key names a secret is replaced by `***`: keys matching SECRET_KEY
 *    (password, passwd, pwd, pw, pass, secret, token, api key, private key, credential, auth)
 *    in objects, in `key=value` / `key: value` / `"key": "value"` text (in a config file,
 *    `redactConfigText`, the value to the line's end: a password may hold spaces), Redis's `requirepass x` / `masterauth x`, and
 *    SQL parameters bound to such a column (`password = ?`, `IDENTIFIED BY ?`,
 *    `INSERT (…, password) VALUES (…, ?)`).
 * 2. The password part of connection strings is replaced: `scheme://user:pass@host` (the user
 *    may be empty: `redis://:pass@host`) and GoFrame's `mysql:user:pass@tcp(host:port)/db`.
 * 3. A command's `-pSECRET` / `--password=SECRET` / `redis-cli -a SECRET` style flags are replaced.
 * What cannot be recognised cannot be hidden: never put a secret in a step title, an error
 * message or a scenario input.
 */
export const MASK = '***';

// `pw` only as a word of its own (DB_PW, pw): "upward" is not a secret.
const SECRET_WORD = String.raw`(?:password|passwd|pwd|pass|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credentials?|auth|(?<![a-z])pw(?![a-z]))`;
const SECRET_KEY = new RegExp(`^[A-Za-z0-9_.-]*${SECRET_WORD}[A-Za-z0-9_.-]*$`, 'i');
/** `"Password": "x"`, `password: x`, `DB_PASS=x`, `--password=x`, `IDENTIFIED BY 'x'`. */
const KEYED_TEXT = new RegExp(
  String.raw`(["']?[A-Za-z0-9_.-]*${SECRET_WORD}[A-Za-z0-9_.-]*["']?[ \t]*[:=][ \t]*|\bidentified\s+by\s+)("(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|[^\s,;}"']+)`,
  'gi',
);
/** `scheme://user:pass@`, and GoFrame/Go DSNs `[mysql:]user:pass@tcp(` (the password may hold `:` and `@`). */
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/"']*:)([^\s@"']+)(@)/gi;
const DSN_CREDENTIALS = /((?:\b(?:mysql|mariadb|pgsql|postgres|mssql|clickhouse):)?[A-Za-z0-9_.-]+:)([^\s"']+?)(@(?:tcp|udp|unix)\()/g;
/** `mysql … -pSECRET`; only for MySQL/MariaDB clients, `mkdir -p` must stay readable. */
/** `redis-cli -a SECRET` / `--pass SECRET`. */
const REDIS_CLI_PASSWORD = /(\bredis-cli\b[^|;&\n]*?\s(?:-a|--pass)\s+)("(?:[^"\\]|\\.)*"|'[^']*'|\S+)/g;
const SHORT_PASSWORD_FLAG = /(\b(?:mysql|mariadb|mysqldump|mysqladmin|mariadb-[a-z]+|mysql_[a-z]+)\b[^|;&\n]*?\s-p)(\S+)/g;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** A config line `key: value` / `KEY=value` / `"key": "value",` under a secret key: the value to the line's end. */
// Within one line: [ \t], never \s, which would run on into the next.
const SECRET_LINE = new RegExp(String.raw`^([ \t]*(?:[-+ ][ \t]*)?(?:export[ \t]+)?["']?[A-Za-z0-9_.-]*${SECRET_WORD}[A-Za-z0-9_.-]*["']?[ \t]*[:=][ \t]*)(.*?)(,?[ \t]*)$`, 'gim');
/** Redis: `requirepass x`, `masterauth x` in redis.conf and in `CONFIG SET`. */
const REDIS_SECRET = /\b((?:requirepass|masterauth|masteruser-password)\s+)("(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|\S+)/gi;

/** Any text: commands, messages, log lines, SQL. */
export function redactText(text: string): string {
  return text
    .replace(REDIS_SECRET, (_m, head: string, value: string) => `${head}${quoteLike(value)}`)
    .replace(URL_CREDENTIALS, (_m, head: string, _p: string, at: string) => `${head}${MASK}${at}`)
    .replace(DSN_CREDENTIALS, (_m, head: string, _p: string, tail: string) => `${head}${MASK}${tail}`)
    .replace(KEYED_TEXT, (all, head: string, value: string) => (value === '?' ? all : `${head}${quoteLike(value)}`))
    .replace(SHORT_PASSWORD_FLAG, (_m, flag: string) => `${flag}${MASK}`)
    .replace(REDIS_CLI_PASSWORD, (_m, flag: string, value: string) => `${flag}${quoteLike(value)}`);
}

/**
 * A config file's text or a diff of one: besides `redactText`, a value under a secret key is
 * masked to the line's end (in a command, `PW=x cmd` keeps its command readable instead).
 */
export function redactConfigText(text: string): string {
  return redactText(text.replace(SECRET_LINE, (all, head: string, value: string, tail: string) => (value === '' || value === '?' || /^[{[]$/.test(value) ? all : `${head}${quoteLike(value)}${tail}`)));
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
