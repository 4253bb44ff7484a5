/**
 * "Load the newest dump" (seed §4.3 step 3, §4.4): the newest copy that passes its checks,
 * over the stores allowed, restored into MariaDB on `to`. The copy is chosen when the step
 * is planned and named in the plan, so the operator sees which store and which hour the
 * data comes from before anything changes.
 */
import { ActionError, type Action, type ActionContext, type Change } from '../actions/action.ts';
import { backupSettings, findNewestGoodCopy, restoreCopy, type GoodCopy } from '../backup/index.ts';

export interface RestoreDumpOptions {
  /** Stores to look in; default every backup store of the fleet. */
  stores?: readonly string[];
}

export interface RestoreNewestAction extends Action {
  /** The GTID of the copy this step restores (chosen once, at its plan or apply). */
  copyGtid(ctx: ActionContext): Promise<string>;
}

export function restoreNewestCopy(to: string, options: RestoreDumpOptions = {}): RestoreNewestAction {
  let chosen: { copy: GoodCopy; action: Action } | undefined;
  async function choose(ctx: ActionContext): Promise<{ copy: GoodCopy; action: Action }> {
    if (chosen) return chosen;
    if (!ctx.fleet.backups) throw new ActionError('precondition', 'the fleet file has no backups section: there is no copy to restore');
    const settings = backupSettings(ctx.fleet);
    let copy: GoodCopy;
    try {
      copy = await findNewestGoodCopy(ctx, settings, { ...(options.stores ? { stores: options.stores } : {}), preferStore: to });
    } catch (error) {
      throw new ActionError('precondition', `no usable backup copy on ${(options.stores ?? settings.stores).join(', ')}: ${(error as Error).message}`, { cause: error });
    }
    chosen = { copy, action: restoreCopy({ copy, to, settings }) };
    return chosen;
  }
  return {
    title: `Restore the newest good backup copy into MariaDB on ${to}`,
    machines: [to],
    mutating: true,
    async plan(ctx): Promise<Change[]> {
      const { copy, action } = await choose(ctx);
      const skipped = copy.skipped.map((s) => `${s.store}/${s.stamp}: ${s.health}`).join(', ');
      return [
        { kind: 'note', text: `newest good copy: ${copy.copy.kind} ${copy.stamp} on ${copy.store} (taken ${copy.manifest.createdAt} from ${copy.manifest.source.machine}, gtid ${copy.copy.gtid || '-'})${skipped ? `; skipped: ${skipped}` : ''}` },
        ...(await action.plan(ctx)),
      ];
    },
    async apply(ctx) {
      await (await choose(ctx)).action.apply(ctx);
    },
    async verify(ctx) {
      await (await choose(ctx)).action.verify(ctx);
    },
    async copyGtid(ctx) {
      return (await choose(ctx)).copy.copy.gtid;
    },
  };
}
