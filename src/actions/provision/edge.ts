/**
 * Turns a bare machine into an edge like a surviving one (runbook §4.1: an nginx machine
 * is lost): copy the fleet's `nginx.siteFiles` and lifeboat's upstream file from the
 * surviving edge, `nginx -t`, start nginx with the fleet's `nginx.driver` (or reload it when
 * it already runs), and check that it answers HTTP on port 80 on the new machine.
 */
import { runChecked } from '../../remote/remote.ts';
import { ActionError, type Action, type ActionContext, type Change } from '../action.ts';
import { driverFor, type DriverOptions } from '../drivers/index.ts';
import { copyTree } from '../files.ts';
import { describeProbe, probeUntil, type Probe } from '../machine-probe.ts';
import { readTextOrUndefined, shq } from './remote-shell.ts';

export interface ProvisionEdgeOptions {
  /** nginx's config folder. Default `/etc/nginx`. */
  nginxDir?: string;
  /**
   * Folders nginx needs before `nginx -t` passes and that a bare machine may lack (its logs).
   * Default `['/var/log/nginx']`.
   */
  ensureDirs?: readonly string[];
  /** What verify asks the new edge. Default any HTTP answer from http://127.0.0.1:80/. */
  probe?: Probe;
  drivers?: DriverOptions;
  /** How long nginx may take to answer after its start. Default 10 s. */
  startWithinMs?: number;
}

/** lifeboat's own leftovers are not part of a site. */
const EXCLUDE = ['*.lifeboat-*.bak', '.*.lifeboat-tmp-*'];
const DEFAULT_PROBE: Probe = { type: 'http', url: 'http://127.0.0.1:80/' };

type Part = { kind: 'tree'; path: string; action: Action } | { kind: 'file'; path: string };

function inside(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder.endsWith('/') ? folder : `${folder}/`);
}

export function provisionEdge(newEdge: string, fromEdge: string, options: ProvisionEdgeOptions = {}): Action {
  const nginxDir = options.nginxDir ?? '/etc/nginx';
  const ensureDirs = options.ensureDirs ?? ['/var/log/nginx'];
  const probe = options.probe ?? DEFAULT_PROBE;
  const startWithinMs = options.startWithinMs ?? 10_000;

  function settings(ctx: ActionContext) {
    const nginx = ctx.fleet.nginx;
    if (!nginx) throw new ActionError('precondition', 'the fleet file has no nginx section: say which files make a site');
    return { nginx, driver: driverFor('nginx', nginx.driver, options.drivers) };
  }

  /**
   * What to copy. A new edge with no nginx.conf at all (nothing installed its /etc/nginx)
   * takes the surviving edge's whole nginx folder: the site files alone would not run there.
   * (A crash in the middle of that copy may leave nginx.conf without some of its includes;
   * the re-run then copies the site files only and `nginx -t` names what is missing.)
   */
  async function parts(ctx: ActionContext): Promise<Part[]> {
    const { nginx } = settings(ctx);
    const source = ctx.remote(fromEdge);
    const bare = (await readTextOrUndefined(ctx.remote(newEdge), `${nginxDir}/nginx.conf`)) === undefined;
    const wanted = bare ? [nginxDir] : [...nginx.siteFiles, nginx.upstreamFile];
    const paths = wanted.filter((p, i) => !wanted.some((q, j) => j !== i && inside(p, q) && (p !== q || j < i)));
    const out: Part[] = [];
    for (const path of paths) {
      const kind = await source.run(`if [ -d ${shq(path)} ]; then echo dir; elif [ -f ${shq(path)} ]; then echo file; fi`);
      const what = kind.stdout.trim();
      if (what === 'dir') out.push({ kind: 'tree', path, action: copyTree(fromEdge, newEdge, path, { exclude: EXCLUDE }) });
      else if (what === 'file') out.push({ kind: 'file', path });
      else if (path !== nginx.upstreamFile) throw new ActionError('precondition', `${fromEdge}: ${path} (nginx.siteFiles) does not exist`);
    }
    return out;
  }

  async function copyFile(ctx: ActionContext, path: string): Promise<void> {
    const content = await ctx.remote(fromEdge).readFile(path);
    await runChecked(ctx.remote(newEdge), `mkdir -p -- ${shq(path.slice(0, path.lastIndexOf('/')) || '/')}`);
    await ctx.remote(newEdge).writeFile(path, content, { backup: true, mode: 0o644 });
  }

  async function nginxTest(ctx: ActionContext, code: ActionError['code']): Promise<void> {
    const r = await ctx.remote(newEdge).run('nginx -t', { timeoutMs: 15_000 });
    if (r.code !== 0) {
      // Nothing is started or reloaded after a refusal, so a running nginx keeps its old config;
      // the copied files stay on disk (a folder copy cannot be rolled back file by file).
      const why = r.stderr.trim().split('\n').slice(-2).join(' | ');
      throw new ActionError(code, `${newEdge}: nginx -t refuses the copied configuration: ${why}. Nothing was started or reloaded; fix the site on ${fromEdge} and run this step again`);
    }
  }

  return {
    title: `Provision ${newEdge} as an edge like ${fromEdge} (nginx site files, start, answer on port 80)`,
    machines: [newEdge, fromEdge],
    mutating: true,
    async plan(ctx) {
      const { nginx, driver } = settings(ctx);
      const changes: Change[] = [];
      for (const part of await parts(ctx)) {
        if (part.kind === 'tree') changes.push(...(await part.action.plan(ctx)));
        else changes.push({ kind: 'note', machine: newEdge, text: `copy ${fromEdge}:${part.path} to ${part.path} (backup kept)` });
      }
      if (ensureDirs.length) changes.push({ kind: 'command', machine: newEdge, command: `mkdir -p -- ${ensureDirs.map(shq).join(' ')}` });
      changes.push({ kind: 'command', machine: newEdge, command: 'nginx -t' });
      const running = (await driver.status(ctx.remote(newEdge))) === 'running';
      changes.push({ kind: 'command', machine: newEdge, command: running ? nginx.reload : driver.commands.start });
      return changes;
    },
    async apply(ctx) {
      const { nginx, driver } = settings(ctx);
      const remote = ctx.remote(newEdge);
      for (const part of await parts(ctx)) {
        if (part.kind === 'tree') await part.action.apply(ctx);
        else {
          try {
            await copyFile(ctx, part.path);
          } catch (error) {
            throw new ActionError('apply-failed', `copy ${fromEdge}:${part.path} to ${newEdge}: ${(error as Error).message}`, { cause: error });
          }
        }
      }
      if (ensureDirs.length) await runChecked(remote, `mkdir -p -- ${ensureDirs.map(shq).join(' ')}`);
      await nginxTest(ctx, 'apply-failed');
      try {
        if ((await driver.status(remote)) === 'running') await runChecked(remote, nginx.reload, { timeoutMs: 15_000 });
        else await driver.start(remote);
      } catch (error) {
        throw new ActionError('apply-failed', `${newEdge}: could not start nginx: ${(error as Error).message}`, { cause: error });
      }
      const answer = await probeUntil(remote, probe, startWithinMs);
      if (!answer.ok) throw new ActionError('apply-failed', `${newEdge}: nginx started but ${describeProbe(probe)}: ${answer.detail}`);
      ctx.log(`${newEdge}: nginx serves with ${fromEdge}'s site (${answer.detail})`);
    },
    async verify(ctx) {
      const { driver } = settings(ctx);
      for (const part of await parts(ctx)) {
        if (part.kind === 'tree') {
          await part.action.verify(ctx);
          continue;
        }
        const [a, b] = await Promise.all([ctx.remote(fromEdge).readFile(part.path), readTextOrUndefined(ctx.remote(newEdge), part.path)]);
        if (b === undefined || !a.equals(Buffer.from(b, 'utf8'))) throw new ActionError('verify-failed', `${newEdge}:${part.path} differs from ${fromEdge}'s`);
      }
      await nginxTest(ctx, 'verify-failed');
      const state = await driver.status(ctx.remote(newEdge));
      if (state !== 'running') throw new ActionError('verify-failed', `${newEdge}: nginx is ${state}`);
      const answer = await probeUntil(ctx.remote(newEdge), probe, 3000);
      if (!answer.ok) throw new ActionError('verify-failed', `${newEdge}: ${describeProbe(probe)}: ${answer.detail}`);
    },
  };
}
