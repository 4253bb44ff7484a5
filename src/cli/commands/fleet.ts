/** `lifeboat fleet check [FILE]`: validate a fleet file and summarise it. */
import type { Command } from 'commander';
import { loadFleet } from '../../fleet/load.ts';
import { machinesRunning } from '../../fleet/model.ts';
import { fleetFileOf, fleetOption, legacyFleetArgument } from '../options.ts';

export function registerFleet(program: Command): void {
  const fleet = program.command('fleet').description('Work with the fleet file (fleet.yaml)');
  fleetOption(legacyFleetArgument(fleet.command('check')))
    .description('Validate a fleet file: syntax, schema and cross-checks, every problem with file:line:column')
    .option('--json', 'print the validated fleet (secrets stay references) as JSON')
    .addHelpText('after', '\nExit codes: 0 valid, 2 invalid (problems printed on stderr).')
    .action(async (file: string | undefined, options: { json?: boolean; fleet?: string }) => {
      const path = fleetFileOf(options, file);
      const parsed = await loadFleet(path);
      if (options.json) {
        process.stdout.write(JSON.stringify(parsed, null, 2) + '\n');
        return;
      }
      const services = Object.keys(parsed.services)
        .map((s) => `${s} (${machinesRunning(parsed, s).map((m) => m.name).join(', ')})`)
        .join(', ');
      process.stdout.write(
        `${path}: ok — fleet ${parsed.name}: ${parsed.machines.length} machines, ` +
          `${Object.keys(parsed.services).length} services, ${parsed.bindings.length} config bindings\n` +
          `  services: ${services || 'none'}\n`,
      );
    });
}
