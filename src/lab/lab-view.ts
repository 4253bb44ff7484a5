/**
 * What faults and `lab status` need of a running lab: its hosts, a way into each, and the
 * record of faults in force. `Lab` implements it; faults and status take this narrow view,
 * so they do not import the `Lab` class (which imports them) and can be given a stand-in.
 */
import type { RunOptions, RunResult } from '../remote/remote.ts';
import type { ActiveFault } from './fault-kinds.ts';
import type { LabPaths } from './paths.ts';
import type { LabHost, LabPlan } from './plan.ts';
import type { HostContext, LabServer } from './servers/context.ts';

export interface LabView {
  readonly id: string;
  readonly plan: LabPlan;
  readonly paths: LabPaths;
  readonly hosts: readonly LabHost[];
  readonly fleetFile: string;
  /** Faults in force, as recorded in the lab's state. */
  readonly faults: readonly ActiveFault[];
  host(name: string): LabHost;
  hostRunning(name: string): boolean;
  hostContext(host: LabHost): HostContext;
  serversOf(host: LabHost): LabServer[];
  /** Runs a shell command inside a host (nsenter, no SSH). */
  exec(host: string, command: string, options?: RunOptions): Promise<RunResult>;
  /** Kills a host's processes (its disk stays) / boots it again with its servers. */
  stopHost(host: LabHost): Promise<void>;
  startHost(host: LabHost): Promise<string>;
  recordFaults(faults: ActiveFault[]): Promise<void>;
}
