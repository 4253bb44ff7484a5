/**
 * The watch daemon and the users'-side probe as drills run them: `lifeboat serve` in the ops
 * host (its events as JSON lines in a file the drill reads as they come), `lifeboat probe` in
 * the client host pushing to it. Both are stopped by SIGTERM, and SIGKILL when that is what
 * the drill is about; only the processes these helpers started, found by their own command
 * line inside their own host.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { WatchEvent } from '../../control/watch.ts';
import type { Lab } from '../lab.ts';
import { REPO_IN_HOST } from '../paths.ts';
import { secretRefFor } from '../lab-secrets.ts';

export const IN_HOST_CLI = `node ${REPO_IN_HOST}/bin/lifeboat.mjs`;
export const SERVE_FILE = '/tmp/lifeboat-drill-serve.jsonl';
const PROBE_FILE = '/tmp/lifeboat-drill-probe.jsonl';
/** Where the daemon's API listens in the ops host. */
export const DAEMON_PORT = 9464;
// The bracket keeps pkill's own shell, whose command line holds the pattern, alive.
const SERVE_PATTERN = "'[l]ifeboat.mjs serve'";
const PROBE_PATTERN = "'[l]ifeboat.mjs probe'";

/** The daemon's events so far (JSON lines; a line being written is left for the next look). */
export async function readEvents(file: string): Promise<WatchEvent[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const events: WatchEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line) as WatchEvent);
    } catch {
      break;
    }
  }
  return events;
}

export async function waitForEvents(file: string, done: (events: WatchEvent[]) => boolean, limitMs: number, what: string): Promise<WatchEvent[]> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const events = await readEvents(file);
    if (done(events)) return events;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what} within ${limitMs / 1000} s`);
}

export interface DaemonHandle {
  /** The events file as the drill's process sees it. */
  file: string;
  events(): Promise<WatchEvent[]>;
  /** SIGTERM, then SIGKILL after 20 s; returns problems worth a line in the report. */
  stop(): Promise<string[]>;
  /** SIGKILL now, the way a crash or an OOM kill ends it. */
  kill(): Promise<void>;
  /** The daemon's stderr, its last lines. */
  stderr(): Promise<string>;
}

export interface DaemonOptions {
  fleetFile: string;
  /** `serve` flags besides --fleet, --state, --json and --listen. */
  args: string[];
  /** Keep the events of an earlier run (a restart after SIGKILL appends to them). */
  append?: boolean;
  timeoutMs: number;
}

export async function startDaemon(lab: Lab, o: DaemonOptions): Promise<DaemonHandle> {
  const file = join(lab.paths.host('ops'), 'tmp', SERVE_FILE.slice('/tmp/'.length));
  if (!o.append) await rm(file, { force: true });
  const ops = (command: string, timeoutMs: number) => lab.exec('ops', `cd ${REPO_IN_HOST} && ${command}`, { timeoutMs });
  const listen = `${lab.host('ops').address}:${DAEMON_PORT}`;
  const running = ops(`${IN_HOST_CLI} serve --fleet ${o.fleetFile} --state /tmp/lifeboat-state.db --json --listen ${listen} ${o.args.join(' ')} >> ${SERVE_FILE} 2>> ${SERVE_FILE}.err`, o.timeoutMs);
  let exited = false;
  void running.finally(() => { exited = true; });
  return {
    file,
    events: () => readEvents(file),
    stderr: async () => (await readFile(`${file}.err`, 'utf8').catch(() => '')).trim().split('\n').slice(-6).join(' | '),
    async stop() {
      if (exited) return [];
      await ops(`pkill -TERM -f ${SERVE_PATTERN} || true`, 10_000);
      const done = await Promise.race([running.then(() => true), new Promise<false>((resolve) => setTimeout(resolve, 20_000, false))]);
      if (done) return [];
      await ops(`pkill -KILL -f ${SERVE_PATTERN} || true`, 10_000);
      await running;
      return ['the daemon did not stop within 20 s of SIGTERM'];
    },
    async kill() {
      await ops(`pkill -KILL -f ${SERVE_PATTERN} || true`, 10_000);
      await running;
    },
  };
}

export interface ProbeHandle {
  stop(): Promise<void>;
  rounds(): Promise<Array<{ pushed: boolean; error?: string }>>;
}

/** The users'-side probe on the client host, pushing to the daemon in ops. */
export async function startUsersProbe(lab: Lab, timeoutMs: number): Promise<ProbeHandle> {
  const file = join(lab.paths.host('client'), 'tmp', PROBE_FILE.slice('/tmp/'.length));
  await rm(file, { force: true });
  const push = `http://${lab.host('ops').address}:${DAEMON_PORT}`;
  const running = lab.exec('client', `cd ${REPO_IN_HOST} && ${IN_HOST_CLI} probe --push ${push} --token ${secretRefFor(lab.paths, 'probeToken')} --name client --json > ${PROBE_FILE} 2> ${PROBE_FILE}.err`, { timeoutMs });
  return {
    async stop() {
      await lab.exec('client', `pkill -TERM -f ${PROBE_PATTERN} || true`, { timeoutMs: 10_000 });
      await running;
    },
    async rounds() {
      const text = await readFile(file, 'utf8').catch(() => '');
      return text.split('\n').filter((l) => l.trim()).flatMap((l) => {
        try {
          return [JSON.parse(l) as { pushed: boolean; error?: string }];
        } catch {
          return [];
        }
      });
    },
  };
}
