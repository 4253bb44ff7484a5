/**
 * The `lifeboat` command line. Each command lives in its own module under `commands/` and
 * is registered in `commands/index.ts`; this file only wires commander and maps errors to
 * exit codes.
 */
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.ts';
import { EXIT, exitCodeFor, renderError } from './exit.ts';

export async function main(argv: string[]): Promise<number> {
  // `lifeboat … | head` closes the pipe early: that is the reader's choice, not a crash.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
    throw error;
  });
  const program = new Command('lifeboat')
    .description('Keep the business alive when a machine dies or gets blocked: describe, prepare, detect, recover, drill.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit codes:
  0  ok
  1  something is unhealthy, or a recovery/drill did not succeed
  2  bad input (command line or fleet file)
  3  lifeboat itself failed (a bug or an unexpected environment)`,
    );
  registerCommands(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    process.stderr.write(renderError(error) + '\n');
    return exitCodeFor(error);
  }
}
