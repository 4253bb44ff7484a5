/**
 * The rejoin drill's two extra phases around a primary-down (issue "the runbook to its last
 * step"): before the fault the standby stops receiving and the primary commits marker rows
 * (after the semi-sync time-out, alone: the writes `--accept-data-loss` gives up); after the
 * failover the old primary is powered on again, as it was, and `lifeboat recover rejoin`
 * brings it back. The report says whether every marker is in the extract on the operator's
 * machine, how long the returned machine ran before it was fenced, and (the drill's usual
 * end) whether it stands by with every row.
 */
import type { Lab } from '../lab.ts';
import type { DrillCast } from './drills.ts';
import { parse as parseYaml } from 'yaml';

const SQL_IDENT = /^[A-Za-z0-9_$]+$/;
export const MARKER_TABLE = 'lifeboat_drill_rejoin';
const MARKERS = 3;

export interface RejoinWindow {
  /** When the standby stopped receiving (epoch ms): writes sent after it exist only on the old primary. */
  stoppedAt: number;
  /** The marker values committed on the old primary alone. */
  markers: string[];
}

export interface RejoinReport {
  runId: string | null;
  outcome: string;
  /** The rejoin run, from its start to its end. */
  seconds: number | null;
  /** Power back on → the fence verified: how long the returned machine ran as it was. */
  fencedAfterS: number | null;
  extractFile: string | null;
  /** Transactions the extract holds (its record). */
  extractedTransactions: number | null;
  markersWritten: number;
  markersInExtract: number;
  /** The extract's file mode on the operator's machine (600). */
  extractMode: string | null;
  /** Its roles in the operator's fleet file after the rejoin. */
  rolesAfter: string[] | null;
}

type Exec = (host: string, command: string) => Promise<{ code: number | null; stdout: string; stderr: string }>;

export async function openRejoinWindow(lab: Lab, cast: DrillCast, primary: string, schema: string): Promise<RejoinWindow> {
  if (!SQL_IDENT.test(schema)) throw new Error(`schema ${schema} is not a plain identifier`);
  const sql = async (host: string, text: string) => {
    const r = await lab.exec(host, 'mariadb -N -B', { stdin: text, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`${host}: ${text.slice(0, 80)}: ${r.stderr.trim()}`);
    return r.stdout.trim();
  };
  // The table reaches the standby first: only the rows are the old primary's alone.
  await sql(primary, `CREATE TABLE IF NOT EXISTS \`${schema}\`.${MARKER_TABLE} (id INT PRIMARY KEY, note VARCHAR(64)); SELECT @@gtid_binlog_pos;`);
  const pos = await sql(primary, 'SELECT @@gtid_binlog_pos;');
  await sql(cast.databaseAfter, `SELECT MASTER_GTID_WAIT('${pos.replace(/[^0-9,-]/g, '')}', 30);`);
  await sql(cast.databaseAfter, 'STOP SLAVE;');
  const stoppedAt = Date.now();
  const markers = Array.from({ length: MARKERS }, (_, i) => `only-on-${primary}-${stoppedAt}-${i}`);
  // The first commit waits out the semi-sync time-out, then the primary goes on alone.
  for (const [i, m] of markers.entries()) await sql(primary, `INSERT INTO \`${schema}\`.${MARKER_TABLE} VALUES (${i + 1}, '${m}');`);
  return { stoppedAt, markers };
}

export async function rejoinPhase(lab: Lab, primary: string, window: RejoinWindow, ops: Exec, cli: string, stateArg: string): Promise<{ report: RejoinReport; problems: string[] }> {
  const problems: string[] = [];
  const poweredOnAt = Date.now();
  await lab.heal({ kind: 'machine-down', host: primary });
  const r = await ops('ops', `${cli} recover rejoin --failed ${primary} --yes --json --extract-to /tmp/lifeboat-drill-rejoin ${stateArg}`);
  let run: { id?: string; outcome?: string; startedAt?: string; endedAt?: string; input?: { extractFile?: string }; steps?: Array<{ title: string; endedAt?: string | number | null; state: string }> } = {};
  try {
    run = JSON.parse(r.stdout) as typeof run;
  } catch {
    problems.push(`recover rejoin printed no run (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-4).join(' | ')}`);
  }
  if (r.code !== 0 || run.outcome !== 'recovered') problems.push(`recover rejoin ${run.outcome ?? 'did not run'} (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-4).join(' | ')}`);
  const fence = run.steps?.find((s) => s.title.startsWith(`Fence ${primary}`));
  const fencedAt = typeof fence?.endedAt === 'number' ? fence.endedAt : typeof fence?.endedAt === 'string' ? Date.parse(fence.endedAt) : NaN;
  const file = run.input?.extractFile ?? null;
  let inExtract = 0;
  let transactions: number | null = null;
  if (file) {
    const text = await ops('ops', `cat ${JSON.stringify(file)}`);
    inExtract = window.markers.filter((m) => text.stdout.includes(m)).length;
    const record = await ops('ops', `cat ${JSON.stringify(file.replace(/\.sql$/, '.json'))}`);
    try {
      transactions = (JSON.parse(record.stdout) as { transactions?: number }).transactions ?? null;
    } catch {
      problems.push(`no record of the extraction beside ${file}`);
    }
  }
  if (inExtract !== window.markers.length) problems.push(`${window.markers.length - inExtract} of the ${window.markers.length} rows only ${primary} held are not in the extract${file ? ` ${file}` : ''}`);
  // The extract holds rows of the business: the operator's alone to read.
  const extractMode = file ? (await ops('ops', `stat -c %a ${JSON.stringify(file)}`)).stdout.trim() || null : null;
  if (file && extractMode !== '600') problems.push(`the extract ${file} has mode ${extractMode ?? 'unknown'}, not 600`);
  // The fleet file the operator keeps names it again, a standby and no longer down.
  const fleetText = (await ops('ops', `cat ${JSON.stringify(lab.operatorFleetFile)}`)).stdout;
  const entry = (parseYaml(fleetText) as { machines?: Array<{ name: string; roles?: string[]; down?: unknown }> } | undefined)?.machines?.find((m) => m.name === primary);
  const rolesAfter = entry?.roles ?? null;
  if (!rolesAfter?.includes('db-replica') || entry?.down !== undefined) problems.push(`the fleet file names ${primary} ${JSON.stringify(entry ?? null)} after the rejoin, not a db-replica in service`);
  // What it ran as the old primary stays stopped: its singletons and its upload-sync loops (retired).
  const programs = (await lab.exec(primary, "supervisorctl status 2>/dev/null | awk '$2 == \"RUNNING\" {print $1}'")).stdout.split('\n').filter(Boolean);
  const stale = programs.filter((p) => p.startsWith('lifeboat-sync-'));
  if (stale.length) problems.push(`${primary} still runs its old upload sync: ${stale.join(', ')}`);
  const seconds = run.startedAt && run.endedAt ? (Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000 : null;
  return {
    report: {
      runId: run.id ?? null, outcome: run.outcome ?? 'none', seconds,
      fencedAfterS: Number.isFinite(fencedAt) ? Math.round(fencedAt - poweredOnAt) / 1000 : null,
      extractFile: file, extractMode, extractedTransactions: transactions, markersWritten: window.markers.length, markersInExtract: inExtract, rolesAfter,
    },
    problems,
  };
}
