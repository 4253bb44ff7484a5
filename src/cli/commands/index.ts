/** The one place where commands are registered. Keep one import and one line per command. */
import type { Command } from 'commander';
import { registerBackup } from './backup.ts';
import { registerCerts } from './certs.ts';
import { registerDrill } from './drill.ts';
import { registerFleet } from './fleet.ts';
import { registerHosts } from './hosts.ts';
import { registerPrepare } from './prepare.ts';
import { registerProbe } from './probe.ts';
import { registerRuns } from './runs.ts';
import { registerRecover } from './recover.ts';
import { registerSchema } from './schema.ts';
import { registerServe } from './serve.ts';
import { registerStatus } from './status.ts';
import { registerLab } from './lab.ts';
import { registerUsers } from './users.ts';

export function registerCommands(program: Command): void {
  registerBackup(program);
  registerCerts(program);
  registerDrill(program);
  registerFleet(program);
  registerHosts(program);
  registerPrepare(program);
  registerProbe(program);
  registerRuns(program);
  registerRecover(program);
  registerSchema(program);
  registerServe(program);
  registerStatus(program);
  registerLab(program);
  registerUsers(program);
}
