/**
 * `lifeboat users`: who may log in to the daemon's dashboard (`lifeboat serve --listen`),
 * kept in the same state file as the journal. Passwords are read from stdin (a pipe) or
 * asked on the terminal without echo; never taken as an argument, where `ps` would show them.
 */
import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { AuthError, WebAuth } from '../../control/web/auth.ts';
import { EXIT, UsageError } from '../exit.ts';
import { stateFileFrom } from '../options.ts';

const STATE_HELP = 'state file (default: $LIFEBOAT_STATE or ~/.lifeboat/state.db); the one `lifeboat serve` uses';

async function readPassword(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Nothing typed is echoed: readline writes through this, and only the prompt passes.
  const out = rl as unknown as { _writeToOutput: (s: string) => void };
  let prompted = false;
  out._writeToOutput = (s: string) => {
    if (!prompted) {
      process.stderr.write(s);
      prompted = true;
    }
  };
  const answer = await new Promise<string>((resolve) => rl.question(prompt, resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

function withAuth<T>(state: string | undefined, use: (auth: WebAuth) => Promise<T> | T): Promise<T> {
  const auth = WebAuth.open(stateFileFrom(state));
  return Promise.resolve(use(auth)).finally(() => auth.close());
}

export function registerUsers(program: Command): void {
  const users = program.command('users').description("Who may log in to the daemon's dashboard");
  users.command('add')
    .description('Add a user (the password is read from stdin, or asked without echo)')
    .argument('<name>', 'the name to log in with')
    .option('--replace', 'set a new password for an existing user (ends its sessions)')
    .option('--json', 'machine-readable output')
    .option('--state <path>', STATE_HELP)
    .action(async (name: string, options: { replace?: boolean; json?: boolean; state?: string }) => {
      const password = await readPassword(`password for ${name}: `);
      if (process.stdin.isTTY && (await readPassword('again: ')) !== password) throw new UsageError('the two passwords differ');
      await withAuth(options.state, async (auth) => {
        try {
          await auth.addUser(name, password, { replace: options.replace ?? false });
        } catch (error) {
          if (error instanceof AuthError) throw new UsageError(error.message);
          throw error;
        }
      });
      process.stdout.write(options.json ? `${JSON.stringify({ added: name })}\n` : `user ${name} ${options.replace ? 'has a new password' : 'added'}\n`);
      process.exitCode = EXIT.ok;
    });
  users.command('list')
    .description('The users, and when each was added')
    .option('--json', 'machine-readable output')
    .option('--state <path>', STATE_HELP)
    .action(async (options: { json?: boolean; state?: string }) => {
      const list = await withAuth(options.state, (auth) => auth.users());
      process.stdout.write(options.json ? `${JSON.stringify(list.map((u) => ({ name: u.name, createdAt: new Date(u.createdAt).toISOString() })), null, 2)}\n`
        : list.length ? `${list.map((u) => `${u.name.padEnd(24)} added ${new Date(u.createdAt).toISOString()}`).join('\n')}\n` : 'no users: `lifeboat users add NAME`\n');
    });
  users.command('remove')
    .description('Remove a user and end its sessions')
    .argument('<name>')
    .option('--state <path>', STATE_HELP)
    .action(async (name: string, options: { state?: string }) => {
      await withAuth(options.state, (auth) => {
        try {
          auth.removeUser(name);
        } catch (error) {
          if (error instanceof AuthError) throw new UsageError(error.message);
          throw error;
        }
      });
      process.stdout.write(`user ${name} removed\n`);
    });
}
