/**
 * Reads and validates a fleet file: YAML syntax, then the zod schema, then the cross-checks
 * a schema cannot express. Every problem is reported at once with file, line and column.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { nearest } from '../util/suggest.ts';
import { crossCheck } from './cross-check.ts';
import { FleetError, formatPath, type FleetProblem } from './errors.ts';
import { locate } from './locate.ts';
import { fleetSchema, type Fleet } from './schema.ts';

export async function loadFleet(file: string): Promise<Fleet> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot read it';
    throw new FleetError([{ file, line: 1, column: 1, path: '', message: `${reason}` }]);
  }
  return parseFleet(text, file);
}

export function parseFleet(text: string, file = 'fleet.yaml'): Fleet {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new FleetError(
      doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return { file, line, column: col, path: '', message: `YAML syntax: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  const data: unknown = doc.toJS();
  const at = (path: readonly PropertyKey[], key?: string) => locate(doc, lines, path, key);

  const parsed = fleetSchema.safeParse(data);
  if (!parsed.success) {
    const problems = withoutTypoDuplicates(parsed.error.issues.flatMap((issue) => describeIssue(issue, data))).map((p) => {
      const pos = at(p.path, p.key);
      return { file, line: pos.line, column: pos.column, path: formatPath(p.key ? [...p.path, p.key] : p.path), message: p.message };
    });
    throw new FleetError(sortProblems(problems));
  }

  const crossProblems = crossCheck(parsed.data).map((c): FleetProblem => {
    const pos = at(c.path);
    return { file, line: pos.line, column: pos.column, path: formatPath(c.path), message: c.message };
  });
  if (crossProblems.length > 0) throw new FleetError(sortProblems(crossProblems));
  return parsed.data;
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
      return issue.keys.map((key) => {
        const guess = nearest(key, known);
        const hint = guess ? ` — did you mean \`${guess}\`?` : known.length ? ` (expected one of: ${known.join(', ')})` : '';
        return { path, key, message: `unknown key \`${key}\`${hint}`, ...(guess ? { suggestion: guess } : {}) };
      });
    }
    case 'invalid_value': {
      const value = valueAt(data, path);
      const options = issue.values.map(String);
      const guess = typeof value === 'string' ? nearest(value, options) : undefined;
      const what = path.some((p) => p === 'roles') ? 'role' : 'value';
      const hint = guess ? ` — did you mean \`${guess}\`?` : ` (expected one of: ${options.join(', ')})`;
      return [{ path, message: `${what} \`${String(value)}\` is not valid${hint}` }];
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
        return [{ path, message: `${String(path[path.length - 1])} \`${String(value)}\` is not valid${hint}` }];
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
  return `${typeof value} \`${String(value)}\``;
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
