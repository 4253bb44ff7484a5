/**
 * YAML through the `yaml` library's Document API: the scalar's source range is located in
 * the parsed document and only that slice of text is replaced, so comments, order, quoting
 * and line width stay exactly as the owner wrote them.
 */
import { isMap, isScalar, isSeq, parseDocument, Scalar, type Document } from 'yaml';
import { ConfigFormatError, keyPath, type ConfigFormat, type ConfigValue } from './format.ts';

function parse(text: string): Document {
  const doc = parseDocument(text, { keepSourceTokens: false });
  if (doc.errors.length > 0) {
    throw new ConfigFormatError('parse-failed', `not valid YAML: ${doc.errors[0]!.message}`);
  }
  return doc;
}

function findNode(doc: Document, key: string): unknown {
  let node: unknown = doc.contents;
  for (const part of keyPath(key)) {
    if (isMap(node)) node = node.get(part, true) ?? (/^\d+$/.test(part) ? node.get(Number(part), true) : undefined);
    else if (isSeq(node) && /^\d+$/.test(part)) node = node.get(Number(part), true);
    else return undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

function scalarAt(doc: Document, key: string): Scalar | undefined {
  const node = findNode(doc, key);
  if (node === undefined) return undefined;
  if (!isScalar(node)) throw new ConfigFormatError('not-scalar', `${key} is not a single value`);
  return node;
}

function render(value: ConfigValue, style: Scalar.Type): string {
  if (typeof value !== 'string') return String(value);
  if (style === Scalar.QUOTE_SINGLE) return `'${value.replace(/'/g, "''")}'`;
  if (style === Scalar.PLAIN) return value;
  // JSON's string syntax is valid YAML double-quoted syntax.
  return JSON.stringify(value);
}

export const yamlFormat = {
  get(text, key) {
    const node = scalarAt(parse(text), key);
    return node === undefined ? undefined : (node.value as ConfigValue);
  },
  set(text, key, value) {
    const node = scalarAt(parse(text), key);
    if (!node?.range) throw new ConfigFormatError('key-missing', `${key} is not in the file`);
    const [start, end] = node.range;
    const style: Scalar.Type = node.type === Scalar.QUOTE_SINGLE || node.type === Scalar.PLAIN ? node.type : Scalar.QUOTE_DOUBLE;
    for (const attempt of [style, Scalar.QUOTE_DOUBLE] as const) {
      const next = text.slice(0, start) + render(value, attempt) + text.slice(end);
      // A plain scalar can change meaning (`yes`, `1e3`, `a: b`): re-read and fall back to quotes.
      try {
        if (yamlFormat.get(next, key) === value) return next;
      } catch {
        // try the next style
      }
    }
    throw new ConfigFormatError('not-scalar', `${key}: cannot write the new value in place`);
  },
} satisfies ConfigFormat;
