/**
 * JSON edited by source position: a small scanner finds the exact span of the value at a key
 * path and only that span is replaced, so indentation, key order and the value's type (go-fly
 * writes its port as the string "3306") stay as they were.
 */
import { ConfigFormatError, keyPath, type ConfigFormat, type ConfigValue } from './format.ts';

interface Span {
  start: number;
  end: number;
}

class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  fail(what: string): never {
    throw new ConfigFormatError('parse-failed', `not valid JSON: ${what} at offset ${this.pos}`);
  }
  skipSpace(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }
  expect(char: string): void {
    this.skipSpace();
    if (this.text[this.pos] !== char) this.fail(`expected '${char}'`);
    this.pos++;
  }
  string(): string {
    const start = this.pos;
    this.expect('"');
    while (this.pos < this.text.length && this.text[this.pos] !== '"') this.pos += this.text[this.pos] === '\\' ? 2 : 1;
    if (this.pos >= this.text.length) this.fail('unterminated string');
    this.pos++;
    return JSON.parse(this.text.slice(this.text.indexOf('"', start), this.pos)) as string;
  }
  /**
   * Reads one value. `path` is what is left of the key path below this value (`[]`: this is
   * the value sought, so its span is returned); `null` skips the value.
   */
  value(path: readonly string[] | null): Span | undefined {
    this.skipSpace();
    const start = this.pos;
    const char = this.text[this.pos];
    let found: Span | undefined;
    if (char === '{') {
      this.pos++;
      this.skipSpace();
      if (this.text[this.pos] === '}') this.pos++;
      else {
        for (;;) {
          this.skipSpace();
          const key = this.string();
          this.expect(':');
          const inner = this.value(path?.[0] === key ? path.slice(1) : null);
          found ??= inner;
          this.skipSpace();
          if (this.text[this.pos] === ',') this.pos++;
          else if (this.text[this.pos] === '}') { this.pos++; break; }
          else this.fail("expected ',' or '}'");
        }
      }
    } else if (char === '[') {
      this.pos++;
      this.skipSpace();
      if (this.text[this.pos] === ']') this.pos++;
      else {
        for (let index = 0; ; index++) {
          const inner = this.value(path?.[0] === String(index) ? path.slice(1) : null);
          found ??= inner;
          this.skipSpace();
          if (this.text[this.pos] === ',') this.pos++;
          else if (this.text[this.pos] === ']') { this.pos++; break; }
          else this.fail("expected ',' or ']'");
        }
      }
    } else if (char === '"') {
      this.string();
    } else {
      const match = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(this.text.slice(this.pos));
      if (!match) this.fail('unexpected character');
      this.pos += match[0].length;
    }
    if (path?.length === 0) return { start, end: this.pos };
    return found;
  }
}

function locate(text: string, key: string): Span | undefined {
  const scanner = new Scanner(text);
  const span = scanner.value(keyPath(key));
  scanner.skipSpace();
  if (scanner.pos !== text.length) scanner.fail('trailing characters');
  return span;
}

export const jsonFormat = {
  get(text, key) {
    const span = locate(text, key);
    if (!span) return undefined;
    const value: unknown = JSON.parse(text.slice(span.start, span.end));
    if (value !== null && typeof value === 'object') throw new ConfigFormatError('not-scalar', `${key} is not a single value`);
    return value as ConfigValue;
  },
  set(text, key, value) {
    const span = locate(text, key);
    if (!span) throw new ConfigFormatError('key-missing', `${key} is not in the file`);
    jsonFormat.get(text, key); // refuses to overwrite an object or array
    return text.slice(0, span.start) + JSON.stringify(value) + text.slice(span.end);
  },
} satisfies ConfigFormat;
