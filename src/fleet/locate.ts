/** Finds where a path of the parsed document sits in the YAML source, for precise errors. */
import { isMap, isPair, isScalar, isSeq, LineCounter, type Document, type Node } from 'yaml';

export interface Position {
  line: number;
  column: number;
}

/**
 * The position of `path` in the document; with `key`, the position of that key inside the
 * mapping at `path` (used for unknown keys). Falls back to the deepest ancestor that exists,
 * which is where a missing field belongs.
 */
export function locate(doc: Document, lines: LineCounter, path: readonly PropertyKey[], key?: string): Position {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  const steps = key === undefined ? path : [...path, key];
  for (const step of steps) {
    const found = child(node, step);
    if (!found) break;
    offset = rangeStart(found.keyNode ?? found.value) ?? offset;
    // A key's own position is wanted for the last step when it names a key; otherwise the value's.
    if (found.value !== undefined && !(key !== undefined && step === key)) {
      offset = rangeStart(found.value) ?? offset;
    }
    node = found.value;
  }
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

function child(node: unknown, step: PropertyKey): { keyNode?: unknown; value: unknown } | undefined {
  if (isSeq(node) && typeof step === 'number') {
    const value = node.items[step];
    return value === undefined ? undefined : { value };
  }
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const k = isScalar(pair.key) ? pair.key.value : pair.key;
      if (String(k) === String(step)) return { keyNode: pair.key, value: pair.value ?? undefined };
    }
  }
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | undefined)?.range;
  return Array.isArray(range) ? range[0] : undefined;
}
