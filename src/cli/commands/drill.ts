/**
 * `lifeboat drill SCENARIO`: prove a recovery on a lab replica of the fleet — traffic,
 * fault, `lifeboat recover`, and a report of RTO, lost writes, lost uploads, double job runs.
 */
import { relative } from 'node:path';
import type { Command } from 'commander';
import { DRILLS, DrillRoleError, drillNamed } from '../../lab/drill/drills.ts';
import { loadFleet } from '../../fleet/load.ts';
import { renderDrillReport } from '../../lab/drill/report.ts';
import { runDrill, withLabSpares } from '../../lab/drill/run-drill.ts';
import { repoPath } from '../../util/repo.ts';
import { nearest } from '../../util/suggest.ts';
import { EXIT, UsageError } from '../exit.ts';
import { fleetFileOf } from '../options.ts';

const EXAMPLE_FLEET = repoPath('examples', 'go-speed', 'fleet.yaml');

export function registerDrill(program: Command): void {
  program
    .command('drill')
    .description('Drill a recovery scenario on a lab replica of the fleet (needs root): traffic, fault, recover, report')
    .argument('[scenario]', `one of: ${DRILLS.map((d) => d.name).join(', ')}`)
    .option('--list', 'print the drills, one per line: name, what it does, and on this fleet the faults and recovery (or the role it lacks)')
    .option('-f, --fleet <file>', `fleet file the lab is built from (default: $LIFEBOAT_FLEET, else ./fleet.yaml, else ${relative(process.cwd(), EXAMPLE_FLEET) || EXAMPLE_FLEET})`)
    .option('--json', 'print the report as JSON')
    .option('--keep', 'leave the lab up afterwards')
    .option('--lab-id <id>', 'lab id (default: a fresh random one)')
    .option('--rate <n>', 'user requests per second during the drill', (v) => Number(v), 20)
    .option('--auto', 'no person involved: the watch daemon (lifeboat serve, policy auto for this scenario) notices the fault and recovers; the report adds the time to notice')
    .addHelpText('after', '\nExit codes: 0 the drill passed, 1 it failed (the report says why), 2 bad input.')
    .action(async (name: string | undefined, given: { list?: boolean; fleet?: string; json?: boolean; keep?: boolean; labId?: string; rate: number; auto?: boolean }) => {
      const options = { ...given, fleet: fleetFileOf(given, undefined, { fallback: EXAMPLE_FLEET }) };
      if (options.list) {
        // Each drill on this fleet (with the spares the lab adds): what it would do, or the role it lacks.
        const fleet = withLabSpares(await loadFleet(options.fleet));
        for (const d of DRILLS) {
          let on: string;
          try {
            const cast = d.cast(fleet);
            on = `${cast.faults.map((f) => `${f.kind} ${'host' in f ? f.host : ''}`.trim()).join(', ')}; recover ${d.name} ${cast.recover.join(' ')}`;
          } catch (error) {
            if (!(error instanceof DrillRoleError)) throw error;
            on = `not on this fleet: ${error.message}`;
          }
          process.stdout.write(`${d.name}\t${d.describe}\t${on}\n`);
        }
        return;
      }
      if (!name) throw new UsageError(`which drill? lifeboat drill SCENARIO (lifeboat drill --list shows them)`);
      const spec = drillNamed(name);
      if (!spec) {
        const guess = nearest(name, DRILLS.map((d) => d.name));
        throw new UsageError(`unknown drill \`${name}\`${guess ? ` — did you mean \`${guess}\`?` : ''} (drills: ${DRILLS.map((d) => d.name).join(', ')})`);
      }
      if (!Number.isFinite(options.rate) || options.rate <= 0 || options.rate > 200) throw new UsageError('--rate: expected a number of requests per second in (0, 200]');
      const report = await runDrill(spec, {
        fleetFile: options.fleet,
        rate: options.rate,
        ...(options.auto ? { auto: true } : {}),
        ...(options.keep ? { keep: true } : {}),
        ...(options.labId ? { labId: options.labId } : {}),
        log: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(options.json ? JSON.stringify(report, null, 2) + '\n' : renderDrillReport(report));
      process.exitCode = report.ok ? EXIT.ok : EXIT.unhealthy;
    });
}
