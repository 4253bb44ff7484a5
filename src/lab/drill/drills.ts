/**
 * The drills: for each runbook scenario, the failure the lab injects and the recovery
 * lifeboat runs, as data. Each drill picks its machines from the fleet by role (the
 * db-primary, its standby, an edge, the on-site stores, a spare), so it runs on any fleet
 * that has the roles it needs and says which one is missing otherwise. `lifeboat drill
 * --list` prints them; adding a drill is adding an entry here.
 */
import { shippingStores } from '../../backup/binlogs.ts';
import type { Fleet, Machine } from '../../fleet/schema.ts';
import type { FaultSpec } from '../fault-kinds.ts';

/** The machines a drill uses on one fleet, and what it runs. */
export interface DrillCast {
  /** Faults injected at the same instant (the fault time the RTO is measured from). */
  faults: FaultSpec[];
  /**
   * `lifeboat recover` arguments after the scenario name. Where the drill cut a machine's
   * power itself it says so with `--confirm-fenced`, as the person who pulled the plug would:
   * without a fencing command in the fleet file, a machine no path reaches is never assumed off.
   */
  recover: string[];
  /** The machine that serves the database after the recovery (where writes are checked). */
  databaseAfter: string;
  /** The machine whose upload service serves the files after the recovery, if uploads survive. */
  uploadsAfter?: string;
  /** A store that ships the primary's binary log survives the faults: a restore replays it. */
  binlogsSurvive?: boolean;
  /** edge-down with a replacement: the spare that becomes an edge, and the domains it serves. */
  newEdge?: { machine: string; domains: string[] };
}

export interface DrillSpec {
  /** Also the recovery scenario's name, unless `scenario` names another. */
  name: string;
  /** The recovery the fault calls for, when it is not the drill's name. */
  scenario?: string;
  /**
   * Before the fault the standby stops receiving and the primary commits rows alone; after the
   * recovery the old primary is powered on again and `lifeboat recover rejoin` brings it back
   * (src/lab/drill/rejoin-phase.ts).
   */
  rejoin?: boolean;
  describe: string;
  /** Run `lifeboat prepare` (replication, Redis replica, upload sync) before the fault. */
  prepare: boolean;
  /** Take a backup to every store before the fault (the copy the recovery restores). */
  backup: boolean;
  /**
   * No replica survives: the newest backup bounds the loss, or, where a store that ships the
   * binary log survives (`DrillCast.binlogsSurvive`), the last second before the fault.
   */
  lossBoundedByBackup: boolean;
  /** Seconds of traffic between the backup and the fault, at least: what a replay must bring back. */
  minBackupAgeS?: number;
  /** Picks the machines from a fleet (the lab's, with its spares); throws `DrillRoleError`. */
  cast(fleet: Fleet): DrillCast;
}

/** The fleet lacks a role the drill needs: bad input, exit 2. */
export class DrillRoleError extends Error {
  override name = 'DrillRoleError';
  readonly exitCode = 2;
}

const withRole = (fleet: Fleet, role: Machine['roles'][number]) => fleet.machines.filter((m) => m.roles.includes(role));

function primaryOf(fleet: Fleet, drill: string): Machine {
  const found = withRole(fleet, 'db-primary');
  if (found.length !== 1) throw new DrillRoleError(`drill ${drill} needs exactly one machine with role db-primary; fleet ${fleet.name} has ${found.length}`);
  return found[0]!;
}

/** The machine that takes the primary's place: its replica, else another app server. */
function standbyOf(fleet: Fleet, primary: Machine, drill: string): Machine {
  const found = withRole(fleet, 'db-replica').find((m) => m.name !== primary.name) ?? withRole(fleet, 'app').find((m) => m.name !== primary.name);
  if (!found) throw new DrillRoleError(`drill ${drill} needs a standby for ${primary.name}: a machine with role db-replica or a second app server`);
  return found;
}

/** A spare for an app server: one with no domains of its own first (those are meant for edges). */
export function spareOf(fleet: Fleet, drill: string): Machine {
  const spares = withRole(fleet, 'spare');
  const found = spares.find((m) => m.domains.length === 0) ?? spares[0];
  if (!found) throw new DrillRoleError(`drill ${drill} needs a machine with role spare (the lab adds two)`);
  return found;
}

/** App servers besides the primary: all of them are lost when both app servers die. */
const otherAppServers = (fleet: Fleet, primary: Machine) => withRole(fleet, 'app').filter((m) => m.name !== primary.name);

const down = (machines: readonly Machine[]): FaultSpec[] => machines.map((m) => ({ kind: 'machine-down', host: m.name }));

export const DRILLS: readonly DrillSpec[] = [
  {
    name: 'primary-down',
    describe: 'the db-primary dies under traffic; its standby takes over (replica promoted, zero acknowledged writes lost)',
    prepare: true,
    backup: false,
    lossBoundedByBackup: false,
    cast(fleet) {
      const primary = primaryOf(fleet, this.name);
      const heir = standbyOf(fleet, primary, this.name);
      return { faults: down([primary]), recover: ['--failed', primary.name, '--confirm-fenced', primary.name], databaseAfter: heir.name, uploadsAfter: heir.name };
    },
  },
  {
    name: 'rejoin',
    scenario: 'primary-down',
    describe: 'the standby stops receiving, the db-primary commits rows alone and dies; after the failover (--accept-data-loss) it comes back and is rejoined: its own rows extracted, then it stands by again',
    prepare: true,
    backup: false,
    lossBoundedByBackup: false,
    rejoin: true,
    cast(fleet) {
      const primary = primaryOf(fleet, this.name);
      const heir = withRole(fleet, 'db-replica').find((m) => m.name !== primary.name);
      if (!heir) throw new DrillRoleError(`drill ${this.name} needs a machine with role db-replica (it stops receiving, then takes over)`);
      return { faults: down([primary]), recover: ['--failed', primary.name, '--accept-data-loss', '--confirm-fenced', primary.name], databaseAfter: heir.name, uploadsAfter: heir.name };
    },
  },
  {
    name: 'backup-down',
    describe: 'the standby app server dies; it leaves the domain list and the edges, a spare becomes the new standby',
    prepare: true,
    backup: false,
    lossBoundedByBackup: false,
    cast(fleet) {
      const primary = primaryOf(fleet, this.name);
      const standby = standbyOf(fleet, primary, this.name);
      const spare = spareOf(fleet, this.name);
      return { faults: down([standby]), recover: ['--failed', standby.name, '--replacement', spare.name], databaseAfter: primary.name, uploadsAfter: primary.name };
    },
  },
  {
    name: 'edge-down',
    describe: "an nginx edge dies; its domains leave the domain list and the other edges carry the traffic; with a spare that has domains of its own in the fleet file, that spare is built as an edge and serves them",
    prepare: true,
    backup: false,
    lossBoundedByBackup: false,
    cast(fleet) {
      const edges = withRole(fleet, 'edge');
      if (edges.length < 2) throw new DrillRoleError(`drill ${this.name} needs two machines with role edge (one dies, another carries the traffic); fleet ${fleet.name} has ${edges.length}`);
      const primary = primaryOf(fleet, this.name);
      // §4.1 step 4 when the fleet has a spare whose own domains are registered in advance.
      const newEdge = fleet.nginx ? withRole(fleet, 'spare').find((m) => m.domains.length > 0) : undefined;
      return {
        faults: down([edges[0]!]),
        recover: ['--failed', edges[0]!.name, ...(newEdge ? ['--replacement', newEdge.name] : [])],
        databaseAfter: primary.name,
        uploadsAfter: primary.name,
        ...(newEdge ? { newEdge: { machine: newEdge.name, domains: [...newEdge.domains] } } : {}),
      };
    },
  },
  {
    name: 'both-app-down',
    describe: "both app servers die; a spare is built from scratch as the new primary from a surviving store's newest good copy and the binary log shipped since",
    prepare: true,
    backup: true,
    lossBoundedByBackup: true,
    minBackupAgeS: 30,
    cast(fleet) {
      const primary = primaryOf(fleet, this.name);
      const others = otherAppServers(fleet, primary);
      if (others.length === 0) throw new DrillRoleError(`drill ${this.name} needs a second machine with role app`);
      const lost = new Set([primary.name, ...others.map((m) => m.name)]);
      if (!(fleet.backups?.stores ?? []).some((s) => !lost.has(s))) throw new DrillRoleError(`drill ${this.name} needs a backup store that is not an app server`);
      const spare = spareOf(fleet, this.name);
      return {
        faults: down([primary, ...others]),
        recover: ['--failed', primary.name, '--replacement', spare.name, '--confirm-fenced', primary.name],
        databaseAfter: spare.name,
        binlogsSurvive: shippingStores(fleet).some((m) => !lost.has(m.name)),
      };
    },
  },
  {
    name: 'total-loss',
    describe: "both app servers and the on-site stores die; a spare is rebuilt from the encrypted off-site copy and the binary log sealed there since",
    prepare: true,
    backup: true,
    lossBoundedByBackup: true,
    minBackupAgeS: 30,
    cast(fleet) {
      const primary = primaryOf(fleet, this.name);
      const others = otherAppServers(fleet, primary);
      if (others.length === 0) throw new DrillRoleError(`drill ${this.name} needs a second machine with role app`);
      const stores = (fleet.backups?.stores ?? []).map((s) => fleet.machines.find((m) => m.name === s)!).filter(Boolean);
      const lostNames = new Set([primary.name, ...others.map((m) => m.name)]);
      const onsite = stores.filter((m) => !m.offsite && !lostNames.has(m.name));
      if (!stores.some((m) => m.offsite)) throw new DrillRoleError(`drill ${this.name} needs an off-site backup store (offsite: true)`);
      const spare = spareOf(fleet, this.name);
      return {
        faults: down([primary, ...others, ...onsite]),
        recover: ['--failed', primary.name, '--replacement', spare.name, '--confirm-fenced', primary.name],
        databaseAfter: spare.name,
        binlogsSurvive: shippingStores(fleet).some((m) => m.offsite),
      };
    },
  },
];

export function drillNamed(name: string): DrillSpec | undefined {
  return DRILLS.find((d) => d.name === name);
}
