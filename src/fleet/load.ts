/**
 * Reads and validates a fleet file: YAML syntax, then the zod schema, then the cross-checks
 * a schema cannot express. Every problem is reported at once with file, line and column.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { nearest } from '../util/suggest.ts';
import { crossCheck } from './cross-check.ts';
import { FleetError, formatPath, oneLine, type FleetProblem } from './errors.ts';
import { locate } from './locate.ts';
import { fleetSchema, type Fleet } from './schema.ts';

/** A fleet file is a few kilobytes; anything near this is not one, and is not read whole. */
export const MAX_FLEET_BYTES = 1024 * 1024;
/** Problems shown at most: the first ones in the file, then how many more there are. */
export const MAX_PROBLEMS = 50;
/** Problems located in the source at most (locating is a walk of the document each). */
const MAX_LOCATED = 100;

export async function loadFleet(file: string): Promise<Fleet> {
  const refuse = (message: string): never => {
    throw new FleetError([{ file, line: 1, column: 1, path: '', message }]);
  };
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a FIFO given as the fleet file must not hang the command on open.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (cause) {
    return refuse((cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot read it');
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) refuse('not a regular file (a fleet file is a YAML file on disk)');
    if (info.size > MAX_FLEET_BYTES) refuse(`the file is ${info.size} bytes; a fleet file may be at most ${MAX_FLEET_BYTES} bytes`);
    const buffer = Buffer.alloc(MAX_FLEET_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_FLEET_BYTES) refuse(`the file is over ${MAX_FLEET_BYTES} bytes; a fleet file may be at most ${MAX_FLEET_BYTES} bytes`);
    return parseFleet(buffer.subarray(0, bytesRead).toString('utf8'), file);
  } finally {
    await handle.close();
  }
}


export function parseFleet(text: string, file = 'fleet.yaml'): Fleet {
  const lines = new LineCounter();
  /** `total`: how many problems there are in all, when only some were located. */
  const fail = (problems: FleetProblem[], total = problems.length): never => {
    throw new FleetError(capped(sortProblems(problems), total));
  };
  if (text.length > MAX_FLEET_BYTES) fail([{ file, line: 1, column: 1, path: '', message: `the text is over ${MAX_FLEET_BYTES} bytes; a fleet file may be at most ${MAX_FLEET_BYTES} bytes` }]);
  const whole = (message: string, offset = 0): FleetProblem => {
    const { line, col } = lines.linePos(offset);
    return { file, line, column: col, path: '', message };
  };
  let doc: Document;
  let data: unknown;
  try {
    // Duplicate keys are found by keyKeys below in one pass: the parser's own check compares
    // every key with every other (20,000 keys took 7 s).
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
    if (doc.errors.length > 0) fail(doc.errors.slice(0, MAX_LOCATED).map((e) => whole(`YAML syntax: ${yamlMessage(e.message)}`, e.pos[0])));
    // An unknown tag (`!foo`) would be ignored by the parser and its value read as a string.
    if (doc.warnings.length > 0) fail(doc.warnings.slice(0, MAX_LOCATED).map((w) => whole(`YAML: ${yamlMessage(w.message)}`, w.pos[0])));
    const keys = keyProblems(doc);
    if (keys.length > 0) fail(keys.map((k) => whole(k.message, k.offset)));
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    if (error instanceof FleetError) throw error;
    // The parser's own limits: nesting past the stack, aliases that would expand without
    // bound, an alias before its anchor. Each is the file's fault, said in one line.
    const e = error as Error;
    const why = e instanceof RangeError ? 'the YAML is nested too deeply to read' : /alias/i.test(e.message) ? `YAML aliases: ${yamlMessage(e.message)}` : `YAML: ${yamlMessage(e.message)}`;
    return fail([whole(why)]);
  }
  const at = (path: readonly PropertyKey[], key?: string) => locate(doc, lines, path, key);
  const located = (problems: ReadonlyArray<{ path: readonly PropertyKey[]; key?: string; message: string }>): FleetProblem[] =>
    problems.slice(0, MAX_LOCATED).map((p) => {
      const pos = at(p.path, p.key);
      return { file, line: pos.line, column: pos.column, path: formatPath(p.key ? [...p.path, p.key] : p.path), message: p.message };
    });

  const control = controlCharacters(data);
  if (control.length > 0) fail(located(control), control.length);

  const parsed = fleetSchema.safeParse(data);
  if (!parsed.success) {
    const described = withoutTypoDuplicates(parsed.error.issues.flatMap((issue) => describeIssue(issue, data)));
    const total = parsed.error.issues.reduce((n, i) => n + (i.code === 'unrecognized_keys' ? i.keys.length : 1), 0);
    fail(located(described), Math.max(total, described.length));
  }
  const crossProblems = crossCheck(parsed.data!);
  if (crossProblems.length > 0) fail(located(crossProblems), crossProblems.length);
  return parsed.data!;
}

/** The parser's message, first line only (the rest is a picture of the source). */
function yamlMessage(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/**
 * Keys a mapping has twice, compared as the loader reads them (`1` and `"1"`, `true` and
 * `"true"` are one key: the second would silently replace the first), keys that are not
 * plain values, and `__proto__`, which would reach an object's prototype. One pass.
 */
function keyProblems(doc: Document): Array<{ message: string; offset: number }> {
  const found: Array<{ message: string; offset: number }> = [];
  const offsetOf = (node: unknown) => (node as { range?: number[] } | null)?.range?.[0] ?? 0;
  visit(doc, {
    Map(_, map) {
      const seen = new Map<string, number>();
      for (const pair of map.items) {
        if (found.length >= MAX_LOCATED) return visit.BREAK;
        if (!isScalar(pair.key)) {
          found.push({ message: 'a key must be a plain value, not a list or a mapping', offset: offsetOf(pair.key) });
          continue;
        }
        const key = String(pair.key.value);
        if (key === '__proto__') found.push({ message: 'key `__proto__` is not allowed in a fleet file', offset: offsetOf(pair.key) });
        const first = seen.get(key);
        if (first !== undefined) found.push({ message: `key \`${oneLine(key, 60)}\` appears twice in this mapping`, offset: offsetOf(pair.key) });
        else seen.set(key, offsetOf(pair.key));
      }
      return undefined;
    },
  });
  return found;
}

/**
 * NUL bytes anywhere, and line breaks or other control characters in any value but `notes`:
 * every value of a fleet file ends up in a path, a command, a crontab line or a log line,
 * where they split or hide what is run.
 */
function controlCharacters(data: unknown): Array<{ path: PropertyKey[]; message: string }> {
  const found: Array<{ path: PropertyKey[]; message: string }> = [];
  const walk = (node: unknown, path: PropertyKey[]) => {
    if (found.length >= MAX_LOCATED) return;
    if (typeof node === 'string') {
      const notes = path[path.length - 1] === 'notes';
      if (node.includes('\0')) found.push({ path, message: 'a NUL byte in a value' });
      // eslint-disable-next-line no-control-regex
      else if (!notes && /[\u0000-\u001f\u007f]/.test(node)) found.push({ path, message: 'a line break or control character in a value (only `notes` may span lines)' });
      return;
    }
    if (Array.isArray(node)) node.forEach((v, i) => walk(v, [...path, i]));
    else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, [...path, k]);
  };
  walk(data, []);
  return found;
}

/** At most MAX_PROBLEMS, then one line saying how many more there are. */
function capped(problems: FleetProblem[], total: number): FleetProblem[] {
  if (problems.length <= MAX_PROBLEMS && total <= problems.length) return problems;
  const shown = Math.min(problems.length, MAX_PROBLEMS);
  const rest = total - shown;
  const last = problems[shown - 1]!;
  return [...problems.slice(0, shown), { file: last.file, line: last.line, column: last.column, path: '', message: `… and ${rest} more problem${rest === 1 ? '' : 's'} not shown` }];
}

interface Described {
  path: PropertyKey[];
  key?: string;
  message: string;
  /** For an unknown key: the known key it is probably a typo of. */
  suggestion?: string;
  /** For a missing key: its name. */
  missing?: string;
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown): Described[] {
  const path = [...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(path, data);
      // Only as many as can be shown are described (a hostile file may have 50,000).
      return issue.keys.slice(0, MAX_LOCATED).map((key) => {
        const guess = nearest(key, known);
        const hint = guess ? ` — did you mean \`${guess}\`?` : known.length ? ` (expected one of: ${known.join(', ')})` : '';
        return { path, key, message: `unknown key \`${oneLine(key, 60)}\`${hint}`, ...(guess ? { suggestion: guess } : {}) };
      });
    }
    case 'invalid_value': {
      const value = valueAt(data, path);
      const options = issue.values.map(String);
      const guess = typeof value === 'string' ? nearest(value, options) : undefined;
      const what = path.some((p) => p === 'roles') ? 'role' : 'value';
      const hint = guess ? ` — did you mean \`${guess}\`?` : ` (expected one of: ${options.join(', ')})`;
      return [{ path, message: `${what} \`${shown(value)}\` is not valid${hint}` }];
    }
    case 'invalid_type': {
      const value = valueAt(data, path);
      if (value === undefined) {
        const field = path[path.length - 1];
        return [{ path: path.slice(0, -1), missing: String(field), message: `missing required key \`${String(field)}\` (expected ${issue.expected})` }];
      }
      return [{ path, message: `expected ${issue.expected}, found ${describeValue(value)}` }];
    }
    case 'invalid_union': {
      const value = valueAt(data, path);
      const options = 'options' in issue && Array.isArray(issue.options) ? issue.options.map(String) : [];
      if (options.length > 0) {
        const guess = typeof value === 'string' ? nearest(value, options) : undefined;
        const hint = guess ? ` — did you mean \`${guess}\`?` : ` (expected one of: ${options.join(', ')})`;
        return [{ path, message: `${String(path[path.length - 1])} \`${shown(value)}\` is not valid${hint}` }];
      }
      return [{ path, message: `${issue.message}; found ${describeValue(value)}` }];
    }
    default:
      return [{ path, message: issue.message }];
  }
}

/** A typo'd key also makes the real key "missing"; report the typo alone. */
function withoutTypoDuplicates(described: Described[]): Described[] {
  const typos = new Set(described.filter((d) => d.key && d.suggestion).map((d) => `${formatPath(d.path)}|${d.suggestion}`));
  return described.filter((d) => !(d.missing && typos.has(`${formatPath(d.path)}|${d.missing}`)));
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} \`${shown(value)}\``;
}

/** A value as a message may quote it: never by calling the file's own `toString`, and short. */
function shown(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return oneLine(String(value), 60);
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let node = data;
  for (const step of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[step];
  }
  return node;
}

/** The keys the schema accepts at `path`, to suggest the nearest one for a typo. */
function knownKeys(path: readonly PropertyKey[], data: unknown): string[] {
  let schema: z.core.$ZodType | undefined = fleetSchema;
  for (let i = 0; i <= path.length && schema; i++) {
    schema = unwrap(schema, valueAt(data, path.slice(0, i)));
    if (i === path.length) break;
    const def = schema?._zod.def as unknown as Record<string, unknown>;
    if (def.type === 'object') schema = (def.shape as Record<string, z.core.$ZodType>)[String(path[i])];
    else if (def.type === 'array') schema = def.element as z.core.$ZodType;
    else if (def.type === 'record') schema = def.valueType as z.core.$ZodType;
    else schema = undefined;
  }
  const def = schema?._zod.def as unknown as Record<string, unknown> | undefined;
  if (def?.type === 'record') {
    // A record keyed by an enum (watch.policy): its keys are the enum's values.
    const keys = (def.keyType as z.core.$ZodType | undefined)?._zod.def as unknown as { type?: string; entries?: Record<string, string> } | undefined;
    return keys?.type === 'enum' && keys.entries ? Object.values(keys.entries) : [];
  }
  return def?.type === 'object' ? Object.keys(def.shape as object) : [];
}

function unwrap(schema: z.core.$ZodType, value: unknown): z.core.$ZodType | undefined {
  let current: z.core.$ZodType | undefined = schema;
  for (let guard = 0; current && guard < 10; guard++) {
    const def = current._zod.def as unknown as Record<string, unknown>;
    if (def.type === 'default' || def.type === 'optional' || def.type === 'nullable') {
      current = def.innerType as z.core.$ZodType;
    } else if (def.type === 'pipe') {
      current = def.in as z.core.$ZodType;
    } else if (def.type === 'union') {
      const discriminator = def.discriminator as string | undefined;
      const options = def.options as z.core.$ZodType[];
      const tag = discriminator && value && typeof value === 'object' ? (value as Record<string, unknown>)[discriminator] : undefined;
      current = options.find((o) => {
        const shape = (o._zod.def as unknown as { shape?: Record<string, z.core.$ZodType> }).shape;
        const literal = shape?.[discriminator ?? '']?._zod.def as unknown as { values?: unknown[] } | undefined;
        return literal?.values?.includes(tag);
      });
    } else {
      return current;
    }
  }
  return current;
}

function sortProblems(problems: FleetProblem[]): FleetProblem[] {
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}
