/**
 * "Restore the remaining services" (seed §4.3 step 11, §4.4): when the machine that ran a
 * service is gone, its files come from the newest installation archive that `prepare` left
 * on a backup store — the service folders and their units — and the service manager is
 * told about the new units. The archive is chosen when the step is planned and named in the
 * plan; the store on the target itself is preferred (no transfer between machines).
 */
import { ActionError, type Action, type ActionContext, type Change } from '../actions/action.ts';
import { extractArchive } from '../actions/provision/extract-archive.ts';
import { unitPathOf } from '../actions/service-units.ts';
import { openFile } from '../util/seal.ts';
import { shq } from '../remote/remote.ts';
import { DecisionError } from './errors.ts';

export interface ArchiveChoice {
  store: string;
  path: string;
}

/** The newest archive of `source` on the first store (in the order given) that has one. */
export async function newestArchive(ctx: ActionContext, stores: readonly string[], source: string): Promise<ArchiveChoice> {
  const installDir = ctx.fleet.backups?.installDir;
  if (!installDir) throw new ActionError('precondition', 'the fleet file has no backups section: there are no installation archives');
  const dir = `${installDir}/${source}`;
  const tried: string[] = [];
  for (const store of stores) {
    try {
      // Off-site stores keep the archive sealed (`.tar.gz.enc`); it is opened on the operator.
      const r = await ctx.remote(store).run(`ls -1t ${shq(dir)}/install-${source}-*.tar.gz ${shq(dir)}/install-${source}-*.tar.gz.enc 2>/dev/null | head -n 1`, { timeoutMs: 10_000 });
      const path = r.stdout.trim();
      if (path) return { store, path };
      tried.push(`${store}: none in ${dir}`);
    } catch (error) {
      tried.push(`${store}: ${(error as Error).message}`);
    }
  }
  throw new ActionError('precondition', `no installation archive of ${source} on ${tried.join('; ')} — was \`lifeboat prepare\` run?`);
}

/**
 * Unpacks `services` (folders and units) of `source`'s archive onto `to`. The units are not
 * loaded here: a service must not start before its config points at the live database
 * (`loadServiceUnits` comes after the bindings are rewritten).
 */
export function installServicesFromArchive(source: string, to: string, services: readonly string[], stores: readonly string[]): Action {
  let inner: { choice: ArchiveChoice; unpack: Action } | undefined;
  async function choose(ctx: ActionContext) {
    if (inner) return inner;
    const ordered = [...stores].sort((a, b) => Number(b === to) - Number(a === to));
    const choice = await newestArchive(ctx, ordered, source);
    const members = services.flatMap((name) => {
      const spec = ctx.fleet.services[name];
      if (!spec) throw new ActionError('precondition', `service ${name} is not in the fleet file`);
      const unit = unitPathOf(name, spec.driver);
      return [spec.dir, ...(unit ? [unit] : [])].map((p) => p.replace(/^\//, ''));
    });
    const key = ctx.fleet.backups?.encryptionKey;
    const decrypt = choice.path.endsWith('.enc')
      ? async (sealed: string, clear: string) => {
          if (!key) throw new ActionError('precondition', `${choice.store}:${choice.path} is sealed but the fleet names no backups.encryptionKey`);
          await openFile(sealed, clear, await ctx.secret(key));
        }
      : undefined;
    inner = { choice, unpack: extractArchive(choice.store, choice.path, to, '/', { members, ...(decrypt ? { decrypt } : {}) }) };
    return inner;
  }
  return {
    title: `Install ${services.join(', ')} on ${to} from ${source}'s installation archive`,
    machines: [to],
    mutating: true,
    async plan(ctx): Promise<Change[]> {
      const { choice, unpack } = await choose(ctx);
      return [{ kind: 'note', text: `newest archive of ${source}: ${choice.store}:${choice.path}` }, ...(await unpack.plan(ctx))];
    },
    apply: async (ctx) => (await choose(ctx)).unpack.apply(ctx),
    verify: async (ctx) => (await choose(ctx)).unpack.verify(ctx),
  };
}

/**
 * The services not installed on `machine`: their unit or one of their config files is
 * missing. (The folder alone says little: upload sync creates go-upload's data folder.)
 * A machine that cannot be asked is an error, never "missing": an archive unpacked over
 * service folders that are there would replace them.
 */
export async function servicesMissingOn(ctx: ActionContext, machine: string, services: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const name of services) {
    const spec = ctx.fleet.services[name];
    if (!spec) continue;
    const unit = unitPathOf(name, spec.driver);
    const files = [...ctx.fleet.bindings.filter((b) => b.service === name).map((b) => b.file), ...(unit ? [unit] : [])];
    if (files.length === 0) continue;
    // `test -f` exits 1 for "absent"; anything else (2+, a signal) means the question failed.
    const script = `for f in ${files.map(shq).join(' ')}; do test -e "$f" || { echo absent; exit 0; }; done; echo present`;
    let r;
    try {
      r = await ctx.remote(machine).run(script, { timeoutMs: 10_000 });
    } catch (cause) {
      throw new DecisionError('state-unreadable', `cannot tell whether ${name} is installed on ${machine}: ${(cause as Error).message}; nothing was changed`, { cause });
    }
    const answer = r.stdout.trim();
    if (r.code !== 0 || (answer !== 'absent' && answer !== 'present')) {
      throw new DecisionError('state-unreadable', `cannot tell whether ${name} is installed on ${machine} (exit ${r.code}: ${r.stderr.trim()}); nothing was changed`);
    }
    if (answer === 'absent') missing.push(name);
  }
  return missing;
}
