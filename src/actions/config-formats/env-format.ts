/** `.env` files: `KEY=value` lines, optional `export`, quotes and trailing comments kept. */
import { ConfigFormatError, type ConfigFormat } from './format.ts';

const LINE = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_.]*)(\s*=\s*)(.*)$/;

interface Assignment {
  prefix: string;
  quote: '"' | "'" | '';
  value: string;
  rest: string;
}

function parseLine(line: string, key: string): Assignment | undefined {
  const match = LINE.exec(line);
  if (!match || match[2] !== key) return undefined;
  const prefix = match[1]! + match[2] + match[3]!;
  const raw = match[4]!;
  const quote = raw[0] === '"' || raw[0] === "'" ? raw[0] : '';
  if (quote) {
    const close = raw.indexOf(quote, 1);
    if (close > 0) return { prefix, quote, value: raw.slice(1, close), rest: raw.slice(close + 1) };
  }
  const comment = /\s+#/.exec(raw);
  const value = comment ? raw.slice(0, comment.index) : raw;
  return { prefix, quote: '', value: value.trimEnd(), rest: raw.slice(value.trimEnd().length) };
}

export const envFormat = {
  get(text, key) {
    let found: string | undefined;
    for (const line of text.split('\n')) found = parseLine(line, key)?.value ?? found;
    return found;
  },
  set(text, key, value) {
    let seen = false;
    const lines = text.split('\n').map((line) => {
      const assignment = parseLine(line, key);
      if (!assignment) return line;
      seen = true;
      const quote = assignment.quote || (/[\s#"'$]/.test(String(value)) ? '"' : '');
      return `${assignment.prefix}${quote}${String(value)}${quote}${assignment.rest}`;
    });
    if (!seen) throw new ConfigFormatError('key-missing', `${key} is not in the file`);
    return lines.join('\n');
  },
} satisfies ConfigFormat;
