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

  constructor(readonly problems: FleetProblem[]) {
    super(problems.map(formatProblem).join('\n'));
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
