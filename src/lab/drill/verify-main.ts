/**
 * Runs inside the lab's ops host at the end of a drill (the machine's own namespace has no
 * route into the lab): checks every acknowledged write against the database that serves
 * now, every acknowledged upload against the go-upload that serves now, and go-job's runs
 * for overlap. Reads its input as JSON on stdin, prints the verdict as JSON.
 */
import mysql from 'mysql2/promise';
import { loadFleet } from '../../fleet/load.ts';
import { machine } from '../../fleet/model.ts';
import { secretBaseDir, secretResolver } from '../../fleet/secrets.ts';
import { countOverlappingRuns } from '../apps/job-runs.ts';
import { uploadsOverHttp, verifyAcknowledged } from '../traffic/analysis.ts';
import type { TrafficRecord } from '../traffic/records.ts';

export interface VerifyInput {
  fleetFile: string;
  databaseAfter: string;
  uploadsAfter?: string;
  records: TrafficRecord[];
}

export interface VerifyOutput {
  checked: Record<string, number>;
  missing: Array<TrafficRecord['ack'] & { t?: number }>;
  doubleJobRuns: number;
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as VerifyInput;
  const fleet = await loadFleet(input.fleetFile);
  const secret = secretResolver(process.env, secretBaseDir(input.fleetFile));
  const db = fleet.database!;
  const conn = await mysql.createConnection({
    host: machine(fleet, input.databaseAfter).address,
    port: db.port,
    user: db.adminUser,
    password: await secret(db.adminPassword),
    connectTimeout: 3000,
  });
  try {
    const uploadPort = fleet.services['go-upload']?.port;
    const records = input.uploadsAfter ? input.records : input.records.filter((r) => r.ack?.kind !== 'upload');
    const fetchUpload = input.uploadsAfter && uploadPort
      ? uploadsOverHttp(`http://${machine(fleet, input.uploadsAfter).address}:${uploadPort}`)
      : async () => null;
    const verification = await verifyAcknowledged(records, { mysqlConn: conn, fetchUpload });
    const doubleJobRuns = await countOverlappingRuns(conn);
    const output: VerifyOutput = { checked: verification.checked, missing: verification.missing, doubleJobRuns };
    process.stdout.write(JSON.stringify(output) + '\n');
  } finally {
    await conn.end();
  }
}

await main();
