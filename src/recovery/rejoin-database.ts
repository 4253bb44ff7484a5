/**
 * The returned old primary's MariaDB becomes a replica of the live primary, the way its
 * history allows, decided from the extraction's record (src/actions/db-divergence.ts):
 * - its history is a prefix of the live one's: it is pointed at the live primary from its
 *   own position (nothing of it is lost, nothing is copied);
 * - it holds transactions of its own: only once they are extracted, whole, on the operator's
 *   machine is its data replaced with a fresh copy of the live primary (prepare's seeding);
 * - no shared history can be established: it stays as it is, unless a person accepted that
 *   what only it holds is lost (`--accept-data-loss`), then it is reseeded.
 */
import { ActionError, type Action, type ActionContext } from '../actions/action.ts';
import { readExtractRecord, recordFileOf } from '../actions/db-divergence.ts';
import { replicateFrom } from '../actions/db.ts';
import { machine } from '../fleet/model.ts';
import { prepareOptions } from '../prepare/prepare-options.ts';
import { replicaOf } from '../prepare/replica-seed.ts';

export function rejoinDatabase(old: string, live: string, extractFile: string, acceptDataLoss: boolean): Action {
  const how = async (ctx: ActionContext): Promise<{ path: 'point' | 'reseed'; why: string; action: Action }> => {
    const record = await readExtractRecord(extractFile);
    if (!record) throw new ActionError('precondition', `no record of what only ${old} holds (${recordFileOf(extractFile)}): the extraction step comes first`);
    if (record.kind === 'prefix') return { path: 'point', why: record.detail, action: replicateFrom(old, live) };
    if (record.kind === 'unknown' && !acceptDataLoss) {
      throw new ActionError('precondition', `${old}: ${record.detail}. It stays fenced and as it is. Compare its binary log with ${live}'s by hand (mariadb-binlog), keep what only it holds, then run again with --accept-data-loss to replace its data with a copy of ${live}`);
    }
    const reseed = replicaOf(machine(ctx.fleet, live), machine(ctx.fleet, old), prepareOptions(), { reseed: true });
    return { path: 'reseed', why: record.kind === 'extra' ? `${record.detail}, extracted to ${record.file}` : `${record.detail}; accepted as lost (--accept-data-loss)`, action: reseed };
  };
  return {
    title: `Make MariaDB on ${old} a replica of ${live}: pointed at it when its history is a prefix, else reseeded once its own transactions are safe`,
    machines: [old, live],
    mutating: true,
    async plan(ctx) {
      const record = await readExtractRecord(extractFile);
      if (!record) return [{ kind: 'note', machine: old, text: `decided from the extraction's record (${recordFileOf(extractFile)}): pointed at ${live} when ${old}'s history is a prefix of ${live}'s, else reseeded from ${live}` }];
      const h = await how(ctx);
      return [{ kind: 'note', machine: old, text: `${h.path === 'point' ? `pointed at ${live}` : `reseeded from ${live}`}: ${h.why}` }, ...(await h.action.plan(ctx))];
    },
    async apply(ctx) {
      const h = await how(ctx);
      ctx.log(`${old}: ${h.path === 'point' ? `pointed at ${live}` : `reseeded from ${live}`} (${h.why})`);
      await h.action.apply(ctx);
      await h.action.verify(ctx);
    },
    async verify(ctx) {
      // Either way it ends replicating from the live primary, read-only, both threads running.
      await replicateFrom(old, live).verify(ctx);
    },
  };
}
