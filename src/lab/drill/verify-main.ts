/**
 * Runs inside the lab's ops host at the end of a drill (the machine's own namespace has no
 * route into the lab): checks every acknowledged write against the database that serves
 * now, every acknowledged file against the disk of the machine that keeps them now, and the
 * singletons' runs for overlap. Reads its input as JSON on stdin, prints the verdict as JSON.
 */
import mysql from 'mysql2/promise';
import { loadFleet } from '../../fleet/load.ts';
import { machine } from '../../fleet/model.ts';
import { secretBaseDir, secretResolver } from '../../fleet/secrets.ts';
import { countOverlappingRuns } from '../apps/job-runs.ts';
import { RemoteFileNotFoundError } from '../../remote/remote.ts';
import { remoteFor } from '../../remote/pool.ts';
import { connectMysql } from '../../remote/mysql-connect.ts';
import { verifyAcknowledged } from '../traffic/analysis.ts';
import { isFileAck, type TrafficRecord } from '../traffic/records.ts';

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
  const conn = await connectMysql(fleet, machine(fleet, input.databaseAfter), db.adminUser, await secret(db.adminPassword), { connectTimeoutMs: 3000 });
  try {
    // Files are looked for on the disk of the machine that keeps them now, over SSH as
    // lifeboat reaches any machine: lost means gone from the disk, whatever the service does.
    // The seed variant's uploads are in the data folder of the singleton that keeps files.
    const uploadDir = Object.values(fleet.services).find((sv) => sv.singleton && sv.dataDirs.length > 0)?.dataDirs[0];
    const records = input.uploadsAfter ? input.records : input.records.filter((r) => !isFileAck(r.ack));
    const keeper = input.uploadsAfter ? remoteFor(fleet, input.uploadsAfter, { secret, baseDir: secretBaseDir(input.fleetFile) }) : undefined;
    const fetchFile = async (name: string, service?: string): Promise<Buffer | null> => {
      const dir = service === undefined ? uploadDir : fleet.services[service]?.dataDirs[0];
      if (!dir || !keeper) return null;
      try {
        return await keeper.readFile(`${dir}/${name}`);
      } catch (error) {
        if (error instanceof RemoteFileNotFoundError) return null;
        throw error;
      }
    };
    const verification = await verifyAcknowledged(records, { mysqlConn: conn, schema: db.schema, fetchFile }).finally(() => keeper?.close());
    const doubleJobRuns = await countOverlappingRuns(conn, db.schema);
    const output: VerifyOutput = { checked: verification.checked, missing: verification.missing, doubleJobRuns };
    process.stdout.write(JSON.stringify(output) + '\n');
  } finally {
    await conn.end();
  }
}

await main();
