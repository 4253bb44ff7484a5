/**
 * One recovery at a time. Before its first mutating step, a run places a marker on every
 * machine it is about to change (run id, scenario, operator host, start time). The marker is
 * a folder renamed into place, which the kernel does atomically: of two lifeboats racing for
 * the same machine, exactly one gets it. Machines are taken in name order so two runs meet
 * on the same first machine. A marker of another run refuses this one, naming that run; the
 * way on is `--resume` there, or `lifeboat runs abandon ID`. Markers stay while the run is
 * unfinished (failed, aborted, killed) and are removed when it recovers or is abandoned.
 */
import { hostname } from 'node:os';
import type { ActionContext } from '../actions/action.ts';
import { shq } from '../remote/remote.ts';
import { DecisionError } from './errors.ts';

/** lifeboat's own folder on a fleet machine (the marker is not part of any service). */
export const MARKER_PARENT = '/var/lib/lifeboat';
export const MARKER = `${MARKER_PARENT}/recovery-lock`;

export interface MarkerOwner {
  run: string;
  scenario: string;
  fleet: string;
  operator: string;
  started: string;
}

function takeScript(): string {
  // The owner file is written into a private temporary folder first, then the folder is
  // renamed onto the marker path: `mv -T` onto an existing (non-empty) marker fails.
  return (
    `set -e; umask 077; mkdir -p ${shq(MARKER_PARENT)}; t=$(mktemp -d ${shq(`${MARKER_PARENT}/.recovery-lock-XXXXXX`)}); cat > "$t/owner"; ` +
    `if mv -T "$t" ${shq(MARKER)} 2>/dev/null; then echo taken; else rm -rf "$t"; echo held; cat ${shq(`${MARKER}/owner`)} 2>/dev/null || true; fi`
  );
}

function parseOwner(text: string): MarkerOwner | undefined {
  try {
    const v = JSON.parse(text) as Partial<MarkerOwner>;
    return typeof v.run === 'string' ? (v as MarkerOwner) : undefined;
  } catch {
    return undefined; // a marker we cannot read still holds the machine; the caller says so
  }
}

export function describeOwner(o: MarkerOwner | undefined): string {
  return o ? `run ${o.run} (${o.scenario}, started ${o.started} from ${o.operator})` : 'a run whose marker cannot be read';
}

/** Reads the marker on `machine`; undefined when there is none. */
export async function markerOn(ctx: ActionContext, machine: string): Promise<MarkerOwner | 'unreadable' | undefined> {
  const r = await ctx.remote(machine).run(`if [ -d ${shq(MARKER)} ]; then cat ${shq(`${MARKER}/owner`)} 2>/dev/null || echo; else echo none; fi`, { timeoutMs: 10_000 });
  const text = r.stdout.trim();
  if (text === 'none') return undefined;
  return parseOwner(text) ?? 'unreadable';
}

export class RunMarkers {
  private readonly taken: string[] = [];

  constructor(
    private readonly ctx: ActionContext,
    private readonly owner: MarkerOwner,
  ) {}

  static ownerFor(run: string, scenario: string, fleet: string): MarkerOwner {
    return { run, scenario, fleet, operator: hostname(), started: new Date().toISOString() };
  }

  /** Takes every machine's marker, in name order, or none: a refusal releases what it took. */
  async acquire(machines: readonly string[]): Promise<void> {
    for (const machine of [...new Set(machines)].sort()) {
      let r;
      try {
        r = await this.ctx.remote(machine).run(takeScript(), { stdin: JSON.stringify(this.owner), timeoutMs: 10_000 });
      } catch (cause) {
        await this.release();
        throw new DecisionError('run-in-progress', `cannot place this run's marker on ${machine}, which the run is about to change: ${(cause as Error).message}; nothing was changed`, { cause });
      }
      const [status, ...rest] = r.stdout.trim().split('\n');
      if (r.code === 0 && status === 'taken') {
        this.taken.push(machine);
        continue;
      }
      const holder = status === 'held' ? parseOwner(rest.join('\n')) : undefined;
      if (status === 'held' && holder?.run === this.owner.run) {
        this.taken.push(machine); // our own marker: a resumed run
        continue;
      }
      await this.release();
      if (status !== 'held') {
        throw new DecisionError('run-in-progress', `cannot place this run's marker on ${machine} (exit ${r.code}: ${r.stderr.trim()}); nothing was changed`);
      }
      throw new DecisionError(
        'run-in-progress',
        `another recovery holds ${machine}: ${describeOwner(holder)}. Nothing was changed. ` +
          `Let it finish, resume it with \`lifeboat recover --resume ${holder?.run ?? 'ID'}\` on ${holder?.operator ?? 'its host'}, ` +
          `or, if it is truly dead, \`lifeboat runs abandon ${holder?.run ?? 'ID'} --by NAME\` (marker: ${machine}:${MARKER}).`,
      );
    }
  }

  /** Removes this run's markers from the machines it took (others' markers are never touched). */
  async release(): Promise<void> {
    const machines = this.taken.splice(0);
    await Promise.all(machines.map((m) => removeMarker(this.ctx, m, this.owner.run).catch((error: unknown) => {
      this.ctx.log(`${m}: could not remove the run marker ${MARKER}: ${(error as Error).message}; \`lifeboat runs abandon ${this.owner.run} --by NAME\` removes it`);
    })));
  }
}

/** Removes the marker on `machine` if it belongs to `run`. True when it did. */
export async function removeMarker(ctx: ActionContext, machine: string, run: string): Promise<boolean> {
  const found = await markerOn(ctx, machine);
  if (found === undefined || found === 'unreadable' || found.run !== run) return false;
  const r = await ctx.remote(machine).run(`rm -rf -- ${shq(MARKER)}`, { timeoutMs: 10_000 });
  return r.code === 0;
}
