/**
 * The drills: for each runbook scenario, the failure the lab injects and the recovery
 * lifeboat runs, as data. `lifeboat drill --list` prints them; adding a drill is adding
 * an entry here.
 */
import type { FaultSpec } from '../fault-kinds.ts';

export interface DrillSpec {
  /** Also the recovery scenario's name. */
  name: string;
  describe: string;
  /** Faults injected at the same instant (the fault time the RTO is measured from). */
  faults: FaultSpec[];
  /**
   * `lifeboat recover` arguments after the scenario name. Where the drill cut a machine's
   * power itself it says so with `--confirm-fenced`, as the person who pulled the plug would:
   * without a fencing command in the fleet file, a machine no path reaches is never assumed off.
   */
  recover: string[];
  /** Run `lifeboat prepare` (replication, Redis replica, upload sync) before the fault. */
  prepare: boolean;
  /** Take a backup to every store before the fault (the copy the recovery restores). */
  backup: boolean;
  /** The machine that serves the database after the recovery (where writes are checked). */
  databaseAfter: string;
  /** The machine whose go-upload serves the files after the recovery, if uploads survive. */
  uploadsAfter?: string;
  /** Losing writes made after the newest backup is expected (no replica survives). */
  lossBoundedByBackup: boolean;
}

export const DRILLS: readonly DrillSpec[] = [
  {
    name: 'primary-down',
    describe: 'the primary app server dies under traffic; the backup takes over (replica promoted, zero acknowledged writes lost)',
    faults: [{ kind: 'machine-down', host: 'primary' }],
    recover: ['--failed', 'primary', '--confirm-fenced', 'primary'],
    prepare: true,
    backup: false,
    databaseAfter: 'backup',
    uploadsAfter: 'backup',
    lossBoundedByBackup: false,
  },
  {
    name: 'backup-down',
    describe: 'the backup app server dies; it leaves the domain list and the edges, spare-1 becomes the new backup',
    faults: [{ kind: 'machine-down', host: 'backup' }],
    recover: ['--failed', 'backup', '--replacement', 'spare-1'],
    prepare: true,
    backup: false,
    databaseAfter: 'primary',
    uploadsAfter: 'primary',
    lossBoundedByBackup: false,
  },
  {
    name: 'edge-down',
    describe: "an nginx edge dies; its domains leave the domain list and the other edge carries the traffic",
    faults: [{ kind: 'machine-down', host: 'edge-1' }],
    recover: ['--failed', 'edge-1'],
    prepare: true,
    backup: false,
    databaseAfter: 'primary',
    uploadsAfter: 'primary',
    lossBoundedByBackup: false,
  },
  {
    name: 'both-app-down',
    describe: 'both app servers die; spare-1 is built from scratch as the new primary from the report server\'s newest good copy',
    faults: [{ kind: 'machine-down', host: 'primary' }, { kind: 'machine-down', host: 'backup' }],
    recover: ['--failed', 'primary', '--replacement', 'spare-1', '--confirm-fenced', 'primary'],
    prepare: true,
    backup: true,
    databaseAfter: 'spare-1',
    lossBoundedByBackup: true,
  },
  {
    name: 'total-loss',
    describe: 'both app servers and the report server die; spare-1 is rebuilt from the encrypted off-site copy',
    faults: [{ kind: 'machine-down', host: 'primary' }, { kind: 'machine-down', host: 'backup' }, { kind: 'machine-down', host: 'report' }],
    recover: ['--failed', 'primary', '--replacement', 'spare-1', '--confirm-fenced', 'primary'],
    prepare: true,
    backup: true,
    databaseAfter: 'spare-1',
    lossBoundedByBackup: true,
  },
];

export function drillNamed(name: string): DrillSpec | undefined {
  return DRILLS.find((d) => d.name === name);
}
