/**
 * Roles follow recoveries, written into the fleet file itself. Chosen over an overlay of
 * recorded state because the file is what every person and every copy of lifeboat reads: at
 * 3 a.m. `cat fleet.yaml` must not lie, a git diff shows what the recovery changed, and there
 * is no second truth to drift from the first on another machine. The edit keeps the file's
 * comments and order (yaml's Document), changes only the `roles` (and `down`) of the machines
 * the scenario names (the rest of the text is not touched), is checked by the same loader as
 * any fleet file before it is written,
 * and is written atomically with the previous version kept beside it.
 */
import { readFile } from 'node:fs/promises';
import { Document, isMap, isScalar, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { unifiedDiff } from '../actions/text-diff.ts';
import { FleetError } from '../fleet/errors.ts';
import { parseFleet } from '../fleet/load.ts';
import type { RoleChange } from '../fleet/role-changes.ts';
import type { Fleet } from '../fleet/schema.ts';
import { LocalRemote } from '../remote/local.ts';

export interface RolesRecorded {
  file: string;
  /** Unified diff of the file; empty when the file already said so. */
  diff: string;
  backupPath?: string;
  fleet: Fleet;
}

export class RolesNotRecorded extends Error {
  override name = 'RolesNotRecorded';
}

function machineNode(doc: Document, name: string): YAMLMap {
  const machines = doc.get('machines', true);
  if (!isSeq(machines)) throw new RolesNotRecorded('the fleet file has no machines list');
  const node = machines.items.find((item) => isMap(item) && String(item.get('name')) === name);
  if (!node || !isMap(node)) throw new RolesNotRecorded(`the fleet file has no machine ${name}`);
  return node as YAMLMap;
}

/** A value as one line of flow YAML, quoted where YAML needs it. */
function flow(value: unknown, padded: boolean): string {
  const doc = new Document(value);
  if (isMap(doc.contents) || isSeq(doc.contents)) doc.contents.flow = true;
  return doc.toString({ flowCollectionPadding: padded, lineWidth: 0 }).trim();
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

/** `backups.stores`: the item naming `old` says `name` instead, in place (flow or block list alike). */
function storeEdit(doc: Document, old: string, name: string): Edit {
  const stores = doc.getIn(['backups', 'stores'], true);
  if (!isSeq(stores)) throw new RolesNotRecorded('the fleet file has no backups.stores list');
  const item = stores.items.find((i) => isScalar(i) && String(i.value) === old) as { range?: [number, number, number] } | undefined;
  if (!item?.range) throw new RolesNotRecorded(`backups.stores does not name ${old}`);
  return { start: item.range[0], end: item.range[1], text: flow(name, false) };
}

/**
 * The file's text with the changes made, edited in place: only the `roles` values change,
 * a `down` line comes or goes and a store in `backups.stores` is renamed, in the file's own flow style (`[a, b]` or `[ a, b ]`), so the
 * diff shows exactly what the recovery changed and every comment stays where it was.
 */
export function editRoles(text: string, changes: readonly RoleChange[], stamp: { run: string; since: string }): string {
  const doc = parseDocument(text);
  const edits: Edit[] = [];
  for (const change of changes) {
    if ('storeInPlaceOf' in change) {
      edits.push(storeEdit(doc, change.storeInPlaceOf, change.machine));
      continue;
    }
    const node = machineNode(doc, change.machine);
    const current = node.toJSON() as { roles?: string[]; down?: { roles?: string[] } };
    // A machine already down keeps the roles it held before it first went down.
    const roles = 'down' in change ? [] : [...change.roles];
    const down = 'down' in change ? { since: stamp.since, run: stamp.run, roles: current.roles?.length ? current.roles : (current.down?.roles ?? []) } : undefined;
    const rolesPair = node.items.find((p) => isScalar(p.key) && p.key.value === 'roles');
    const rolesNode = rolesPair?.value as { range?: [number, number, number] } | undefined;
    const padded = rolesNode?.range ? text.slice(rolesNode.range[0], rolesNode.range[0] + 2) === '[ ' : false;
    const list = (items: readonly string[]) => flow(items, padded);
    const downText = down && flow(down, padded);
    if (node.flow || !rolesNode?.range) {
      // A machine written on one line: that line is written again, in flow style.
      const { down: _old, ...rest } = node.toJSON() as Record<string, unknown>;
      const machine = { ...rest, roles, ...(down ? { down } : {}) };
      edits.push({ start: node.range![0], end: node.range![1], text: flow(machine, padded) });
      continue;
    }
    const lineStart = (at: number) => text.lastIndexOf('\n', at - 1) + 1;
    const lineEnd = (at: number) => {
      const i = text.indexOf('\n', at);
      return i < 0 ? text.length : i + 1;
    };
    // Where the line a value ends on ends. A block collection's range runs on to the next
    // key's indentation: that belongs to the next line, not to this value.
    const afterValue = (end: number) => {
      let e = end;
      while (e > 0 && (text[e - 1] === ' ' || text[e - 1] === '\t')) e--;
      return e > 0 && text[e - 1] === '\n' ? e : lineEnd(e);
    };
    const rolesKey = (rolesPair!.key as { range: [number, number, number] }).range;
    if (text[rolesNode.range[0]] === '[') {
      edits.push({ start: rolesNode.range[0], end: rolesNode.range[1], text: list(roles) });
    } else {
      // A block list stays a block list, one `- role` per line at its indentation.
      const itemIndent = text.slice(lineStart(rolesNode.range[0]), rolesNode.range[0]);
      const block = roles.length ? `:\n${roles.map((r) => `${itemIndent}- ${r}`).join('\n')}\n` : ': []\n';
      edits.push({ start: rolesKey[1], end: afterValue(rolesNode.range[1]), text: block });
    }
    const downPair = node.items.find((p) => isScalar(p.key) && p.key.value === 'down');
    if (downPair) {
      const key = (downPair.key as { range: [number, number, number] }).range;
      const value = (downPair.value as { range: [number, number, number] }).range;
      // Replaced (the whole pair, in flow style), or removed with its lines.
      const at = lineStart(key[0]);
      edits.push({ start: at, end: afterValue(value[1]), text: downText ? `${text.slice(at, key[0])}down: ${downText}\n` : '' });
    } else if (downText) {
      const indent = text.slice(lineStart(rolesKey[0]), rolesKey[0]).replace(/[^ ]/g, ' ');
      const last = node.items[node.items.length - 1]!;
      const end = (last.value as { range?: [number, number, number] } | null)?.range?.[1] ?? (last.key as { range: [number, number, number] }).range[1];
      const at = afterValue(end);
      edits.push({ start: at, end: at, text: `${at === text.length && !text.endsWith('\n') ? '\n' : ''}${indent}down: ${downText}\n` });
    }
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/**
 * Writes the role changes into `file`, checked first: a result the loader refuses is not
 * written (RolesNotRecorded says why, and the file is as it was).
 */
export async function recordRoles(file: string, changes: readonly RoleChange[], stamp: { run: string; since: string }): Promise<RolesRecorded> {
  const before = await readFile(file, 'utf8');
  const after = editRoles(before, changes, stamp);
  let fleet: Fleet;
  try {
    fleet = parseFleet(after, file);
  } catch (error) {
    if (error instanceof FleetError) throw new RolesNotRecorded(`the fleet file with the new roles would not load, so it was left as it was: ${error.render()}`, { cause: error });
    throw error;
  }
  const diff = unifiedDiff(before, after, { path: file });
  if (!diff) return { file, diff, fleet };
  const written = await new LocalRemote().writeFile(file, after);
  return { file, diff, fleet, ...(written.backupPath ? { backupPath: written.backupPath } : {}) };
}
