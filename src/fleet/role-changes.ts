/**
 * Roles follow recoveries: after a recovery the fleet is not the one the file described (the
 * replica is the primary now, a spare is an app server, the failed machine holds nothing). A
 * scenario says what changed as a list of role changes; `rewrite.ts` writes them into the
 * fleet file, so that `status`, the daemon and the next recovery start from the fleet as it is.
 */
import type { Fleet, Machine, Role } from './schema.ts';

export type RoleChange =
  /** The machine now holds exactly these roles. */
  | { machine: string; roles: Role[] }
  /** The machine is out of service: it holds no role, its former ones are kept in `down`. */
  | { machine: string; down: true }
  /** The machine takes `inPlaceOf`'s place in `backups.stores` (the backups go there now, runbook §4.2 step 6). */
  | { machine: string; storeInPlaceOf: string };

/** The spare takes `failed`'s place in backups.stores, when the failed machine was a store and the spare is not yet. */
export function storeInPlaceOf(fleet: Fleet, failed: string, spare: string): RoleChange[] {
  const stores = fleet.backups?.stores ?? [];
  return stores.includes(failed) && !stores.includes(spare) ? [{ machine: spare, storeInPlaceOf: failed }] : [];
}

/** What a machine that takes over from the primary takes with it; the rest stays behind. */
export const PRIMARY_ROLES: readonly Role[] = ['app', 'db-primary', 'redis', 'upload', 'job'];

/**
 * `heir` takes over `roles` of `from` (those `from` held), giving up what it was instead: a
 * replica that became the primary is no longer a replica; a spare is no longer a spare.
 */
export function takeOver(from: Machine, heir: Machine, roles: readonly Role[], givesUp: readonly Role[]): RoleChange {
  const kept = heir.roles.filter((r) => r !== 'spare' && !givesUp.includes(r));
  const taken = from.roles.filter((r) => roles.includes(r));
  return { machine: heir.name, roles: [...new Set([...kept, ...taken])] };
}

export function down(machine: string): RoleChange {
  return { machine, down: true };
}

/** The fleet with `changes` made (pure): what the fleet file will say once the run recovered. */
export function withRoleChanges(fleet: Fleet, changes: readonly RoleChange[], stamp: { run: string; since: string }): Fleet {
  const stores = changes.flatMap((c) => ('storeInPlaceOf' in c ? [c] : []));
  return {
    ...fleet,
    ...(fleet.backups && stores.length
      ? { backups: { ...fleet.backups, stores: fleet.backups.stores.map((s) => stores.find((c) => c.storeInPlaceOf === s)?.machine ?? s) } }
      : {}),
    machines: fleet.machines.map((m): Machine => {
      const c = changes.find((x) => x.machine === m.name && !('storeInPlaceOf' in x));
      if (!c || 'storeInPlaceOf' in c) return m;
      if ('down' in c) return { ...m, roles: [], down: { since: stamp.since, run: stamp.run, roles: m.roles } };
      const { down: _down, ...rest } = m;
      return { ...rest, roles: c.roles };
    }),
  };
}
