/** `lifeboat schema`: the JSON Schema of the fleet file, for editor completion. */
import type { Command } from 'commander';
import { fleetJsonSchema } from '../../fleet/json-schema.ts';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('Print the JSON Schema of fleet.yaml (e.g. for the YAML language server: `# yaml-language-server: $schema=fleet.schema.json`)')
    .action(() => {
      process.stdout.write(JSON.stringify(fleetJsonSchema(), null, 2) + '\n');
    });
}
