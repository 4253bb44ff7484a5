/**
 * `npm run bench`: measured claims, run on this machine. Today: the restore bench
 * (bench/restore.ts). `--rows N` changes the size (default 1,048,576), `--json` prints the raw
 * figures.
 */
import { benchRestore, renderRestoreBench } from './restore.ts';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const minRows = Number(option('--rows') ?? 1_048_576);
if (!Number.isInteger(minRows) || minRows < 1) {
  process.stderr.write('--rows expects a positive whole number\n');
  process.exit(2);
}
const result = await benchRestore({ minRows });
process.stdout.write(process.argv.includes('--json') ? JSON.stringify(result, null, 2) + '\n' : renderRestoreBench(result));
