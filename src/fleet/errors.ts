/** Errors in a fleet file, each pinned to a file, line and column. */

export interface FleetProblem {
  file: string;
  line: number;
  column: number;
  /** Path in the document, e.g. `machines[2].roles[0]`. */
  path: string;
  message: string;
}

export class FleetError extends Error {
  override name = 'FleetError';
  readonly exitCode = 2;
  readonly problems: FleetProblem[];

  /** Every problem is one line of bounded length, whatever the file put into its values. */
  constructor(problems: FleetProblem[]) {
    const clean = problems.map((p) => ({ ...p, path: oneLine(p.path, 120), message: oneLine(p.message, 300) }));
    super(clean.map(formatProblem).join('\n'));
    this.problems = clean;
  }

  render(): string {
    const count = this.problems.length;
    return `${this.message}\n${count} problem${count === 1 ? '' : 's'} in the fleet file.`;
  }
}

export function formatProblem(p: FleetProblem): string {
  const where = p.path ? ` ${p.path}:` : '';
  return `${p.file}:${p.line}:${p.column}:${where} ${p.message}`;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/**
 * Text from a file made safe to print on one line: control characters (line breaks, ANSI
 * escapes, NUL) shown as escapes, and at most `max` characters.
 */
export function oneLine(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  return escaped.length <= max ? escaped : `${escaped.slice(0, max - 1)}…`;
}
