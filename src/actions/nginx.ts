/**
 * Points an edge's nginx at new app servers (runbook §4.2 step 4, §4.3 step 7): rewrite the
 * upstream include file with a backup, `nginx -t`, and only then reload. A config nginx
 * rejects is rolled back at once, so the edge keeps serving with what it had.
 */
import { RemoteError, runChecked, shq, type Remote } from '../remote/remote.ts';
import { ActionError, type Action, type ActionContext, type Change } from './action.ts';
import { asActionError } from './action-errors.ts';
import { describeProbe, probeUntil, type Probe } from './machine-probe.ts';
import { renderUpstreams, UpstreamError, type Upstreams } from './nginx-upstreams.ts';
import { unifiedDiff } from './text-diff.ts';

export type { Upstreams, UpstreamServer } from './nginx-upstreams.ts';

export interface NginxCommands {
  /** Checks the whole configuration without touching the running nginx. */
  test: string;
  reload: string;
}

export interface SetUpstreamsOptions {
  /** Default: the fleet's `nginx.upstreamFile`. */
  file?: string;
  /** Default: `nginx -t` and the fleet's `nginx.reload`. */
  commands?: Partial<NginxCommands>;
  /**
   * What `verify` asks nginx, run on the edge. Default: any HTTP answer from
   * http://127.0.0.1/. A drill passes `expectBody` naming the new backend to prove that
   * traffic really moved.
   */
  probe?: Probe;
  /** How long `verify` keeps probing while the reload settles. Default 3000 ms. */
  verifyWithinMs?: number;
}

const DEFAULT_PROBE: Probe = { type: 'http', url: 'http://127.0.0.1/' };

async function readOrEmpty(remote: Remote, path: string): Promise<string | undefined> {
  try {
    return (await remote.readFile(path)).toString('utf8');
  } catch (error) {
    if (error instanceof RemoteError && error.code === 'file-not-found') return undefined;
    throw error;
  }
}

export function setUpstreams(edge: string, upstreams: Upstreams, options: SetUpstreamsOptions = {}): Action {
  let previous: { text: string | undefined } | undefined;

  function settings(ctx: ActionContext): { file: string; commands: NginxCommands } {
    const file = options.file ?? ctx.fleet.nginx?.upstreamFile;
    if (!file) throw new ActionError('precondition', 'the fleet has no nginx section: say where the upstream file lives');
    return { file, commands: { test: 'nginx -t', reload: ctx.fleet.nginx?.reload ?? 'nginx -s reload', ...options.commands } };
  }

  function rendered(): string {
    try {
      return renderUpstreams(upstreams);
    } catch (error) {
      if (error instanceof UpstreamError) throw new ActionError('precondition', error.message, { cause: error });
      throw error;
    }
  }

  /** Writes `text` (or removes the file), tests and reloads; on a rejected config puts `fallback` back. */
  async function install(ctx: ActionContext, file: string, commands: NginxCommands, text: string | undefined, fallback: string | undefined) {
    const remote = ctx.remote(edge);
    const write = (content: string | undefined) =>
      content === undefined ? runChecked(remote, `rm -f ${shq(file)}`).then(() => undefined) : remote.writeFile(file, content, { backup: true });
    await write(text);
    const tested = await remote.run(commands.test, { timeoutMs: 15_000 });
    if (tested.code !== 0) {
      await write(fallback);
      const recheck = await remote.run(commands.test, { timeoutMs: 15_000 });
      const why = tested.stderr.trim().split('\n').slice(-3).join(' | ');
      throw new ActionError(
        'apply-failed',
        `${edge}: nginx rejected the new ${file} (${why}); the previous file is back${recheck.code === 0 ? ' and nginx keeps serving with it' : ', but `' + commands.test + '` still fails: look at the edge now'}`,
      );
    }
    await runChecked(remote, commands.reload, { timeoutMs: 15_000 });
  }

  return {
    title: `Point ${edge}'s nginx upstreams at ${Object.entries(upstreams).map(([name, servers]) => `${name} → ${servers.map((s) => `${s.host}:${s.port}`).join(', ')}`).join('; ')}`,
    machines: [edge],
    mutating: true,
    async plan(ctx) {
      const { file, commands } = settings(ctx);
      const after = rendered();
      const before = await asActionError('precondition', edge, () => readOrEmpty(ctx.remote(edge), file));
      const changes: Change[] = [];
      const diff = unifiedDiff(before ?? '', after, { path: file });
      changes.push(diff ? { kind: 'file', machine: edge, path: file, diff } : { kind: 'note', machine: edge, text: `${file} already holds these upstreams` });
      changes.push({ kind: 'command', machine: edge, command: commands.test });
      changes.push({ kind: 'note', machine: edge, text: `if that fails: put the previous ${file} back and stop` });
      changes.push({ kind: 'command', machine: edge, command: commands.reload });
      return changes;
    },
    async apply(ctx) {
      const { file, commands } = settings(ctx);
      const after = rendered();
      await asActionError('apply-failed', edge, async () => {
        const before = await readOrEmpty(ctx.remote(edge), file);
        if (before !== after) previous ??= { text: before };
        // Reload even when the file is already right: an interrupted run may have written it
        // and died before the reload, and a reload of an unchanged config is harmless.
        await install(ctx, file, commands, after, before);
      });
      ctx.log(`${edge}: nginx upstreams rewritten and reloaded`);
    },
    async verify(ctx) {
      const { file } = settings(ctx);
      const remote = ctx.remote(edge);
      await asActionError('verify-failed', edge, async () => {
        const onDisk = await readOrEmpty(remote, file);
        if (onDisk !== rendered()) throw new ActionError('verify-failed', `${edge}: ${file} is not the file lifeboat wrote`);
        const probe = options.probe ?? DEFAULT_PROBE;
        const result = await probeUntil(remote, probe, options.verifyWithinMs ?? 3000);
        if (!result.ok) throw new ActionError('verify-failed', `${edge}: ${describeProbe(probe)}: ${result.detail}`);
      });
    },
    async undo(ctx) {
      if (!previous) throw new ActionError('undo-failed', `${edge}: nothing recorded to undo; set the old upstreams explicitly`);
      const { file, commands } = settings(ctx);
      try {
        await install(ctx, file, commands, previous.text, rendered());
      } catch (error) {
        throw new ActionError('undo-failed', `${edge}: could not put the previous upstreams back`, { cause: error });
      }
      previous = undefined;
    },
  };
}
