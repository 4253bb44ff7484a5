/**
 * `lifeboat recover [SCENARIO] --failed MACHINE`: run a runbook scenario as journaled,
 * verified steps. Without a scenario it looks at the fleet, names what it sees and shows
 * the plan. `--plan` changes nothing; on a terminal every mutating step is confirmed;
 * `--yes` asks nothing; `--resume ID` continues a run that stopped.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { fleetStatus } from '../../health/fleet-status.ts';
import { judgeMachine, renderVerdict, type Verdict, type VerdictKind } from '../../health/verdict.ts';
import { machine } from '../../fleet/model.ts';
import { diagnose } from '../../recovery/diagnose.ts';
import { startRecovery } from '../../recovery/start.ts';
import { Journal } from '../../recovery/journal.ts';
import { ttyConfirm } from '../../recovery/prompt.ts';
import { progressPrinter, renderPlan, renderRoles, renderSummary, rolesToJson, runToJson } from '../../recovery/render.ts';
import { scenarioNamed, SCENARIOS } from '../../recovery/scenarios/index.ts';
import type { ScenarioInput } from '../../recovery/step.ts';
import { nearest } from '../../util/suggest.ts';
import { EXIT, UsageError } from '../exit.ts';
import { FLEET_HELP, fleetFileOf, stateFileFrom } from '../options.ts';
import { openSession } from '../session.ts';

export interface RecoverOptions {
  fleet?: string;
  failed?: string;
  replacement?: string;
  newBackup?: string;
  plan?: boolean;
  yes?: boolean;
  resume?: string;
  force?: boolean;
  acceptDataLoss?: boolean;
  confirmFenced?: string[];
  extractTo?: string;
  json?: boolean;
  state?: string;
  acceptNewHostKeys?: boolean;
}

export function registerRecover(program: Command): void {
  program
    .command('recover')
    .description('Run a recovery scenario of the runbook as journaled, verified steps (no scenario: diagnose and show the plan)')
    .argument('[scenario]', `one of: ${SCENARIOS.map((s) => s.name).join(', ')}`)
    .option('-f, --fleet <file>', FLEET_HELP)
    .option('--failed <machine>', 'the machine that failed, as named in the fleet file')
    .option('--replacement <machine>', "backup-down, both-app-down, total-loss: the spare built in the failed machine's place; edge-down: a spare with domains of its own in the fleet file, built into a new edge; primary-down: the machine that takes over (default: its replica)")
    .option('--new-backup <spare>', 'primary-down: once the backup has taken over, build this spare into the new backup app server (replica, Redis replica, services, crontab; runbook §4.3 step 9)')
    .option('--plan', 'print every command, SQL statement and file diff; change nothing')
    .option('-y, --yes', 'apply every step without asking (the default asks on a terminal)')
    .option('--resume <run>', 'continue a run that stopped (crash, failure or a "no")')
    .option('--force', 'act although the failure verdict is not "dead" (seen up from some vantage points, or too few answers): the machine is fenced through a path that still sees it')
    .option('--accept-data-loss', 'promote a replica that had stopped receiving; the transactions it lacks are named and recorded')
    .option('--confirm-fenced <machine...>', 'a person confirms these machines are powered off: their singletons may start elsewhere (also with --resume)')
    .option('--extract-to <folder>', 'rejoin: where the transactions only the returned machine holds are extracted (default ~/.lifeboat/rejoin, private)')
    .option('--json', 'print the run as JSON at the end')
    .option('--state <path>', 'state file (default: $LIFEBOAT_STATE or ~/.lifeboat/state.db)')
    .option('--accept-new-host-keys', 'add unknown SSH host keys to known_hosts (changed keys are always refused)')
    .addHelpText(
      'after',
      `
Scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(14)} ${s.describe}`).join('\n')}

A machine is acted on only when every vantage point that should see it (this machine, the
edges, the replica, the other app servers) agrees it is dead; otherwise the vantage table is
printed and nothing changes. One recovery of a fleet at a time: a run holds a marker on every
machine it changes until it recovers (\`lifeboat runs abandon ID --by NAME\` releases a dead run).

Exit codes: 0 recovered (or planned and every check passed), 1 a step or check failed, or the
state needed for a decision could not be read, or the verdict is not dead, 2 bad input.`,
    )
    .action(async (name: string | undefined, options: RecoverOptions) => {
      process.exitCode = await recover(name, options);
    });
}

export async function recover(name: string | undefined, options: RecoverOptions): Promise<number> {
  const out = (text: string) => (options.json ? process.stderr : process.stdout).write(text);
  const session = await openSession(fleetFileOf(options), {
    acceptNewHostKeys: options.acceptNewHostKeys ?? false,
    log: (line) => process.stderr.write(`    ${line}\n`),
  });
  try {
    let input: ScenarioInput;
    let plan = options.plan ?? false;
    if (!name && !options.resume) {
      const status = await fleetStatus(session.fleet, { remote: session.ctx.remote, secret: session.ctx.secret });
      // Every machine is judged from every vantage point: the operator's own view would miss a
      // primary cut off from the edges only, and alone it must never decide.
      const judged: Verdict[] = await Promise.all(session.fleet.machines.map((m) => judgeMachine(session.ctx, m.name)));
      const kinds = new Map<string, VerdictKind>(judged.map((v) => [v.machine, v.kind]));
      for (const v of judged) if (v.kind !== 'alive') out(`Verdict: ${renderVerdict(v)}\n`);
      const found = diagnose(session.fleet, status, kinds);
      const unsettled = judged.filter((v) => v.kind === 'unreachable-from-some' || v.kind === 'unknown');
      if (found.length === 0) {
        if (unsettled.length > 0) {
          out(
            `Not recovering: ${unsettled.map((v) => `${v.machine} is ${v.kind}`).join('; ')}. One vantage point never decides: ` +
              'fix the path it is cut off on, or, if you are sure it must be replaced, run its scenario with --force (it is fenced through a path that sees it).\n',
          );
          return EXIT.unhealthy;
        }
        out('Every machine answers: nothing to recover. (`lifeboat status` shows the details.)\n');
        return EXIT.ok;
      }
      for (const v of unsettled) out(`Not acting on ${v.machine}: it is ${v.kind}, not dead.\n`);
      for (const d of found) out(`Diagnosis: ${d.scenario} — ${d.why}\n`);
      const first = found[0]!;
      name = first.scenario;
      input = { failed: first.failed, ...(first.replacement ? { replacement: first.replacement } : {}) };
      plan = true;
      out(`Showing the plan for the first one; to run it: lifeboat recover ${name} --failed ${first.failed}${first.replacement ? ` --replacement ${first.replacement}` : ''}\n\n`);
    } else {
      if (!options.failed && !options.resume) throw new UsageError('say which machine failed: --failed MACHINE');
      input = {
        failed: options.failed ?? '',
        ...(options.replacement ? { replacement: options.replacement } : {}),
        ...(options.newBackup ? { newBackup: options.newBackup } : {}),
        ...(options.force ? { force: true } : {}),
        ...(options.acceptDataLoss ? { acceptDataLoss: true } : {}),
        ...(options.confirmFenced?.length ? { confirmedFenced: options.confirmFenced } : {}),
        ...(options.extractTo ? { extractDir: resolve(options.extractTo) } : {}),
      };
    }
    const stateFile = stateFileFrom(options.state);
    const journal = Journal.open(stateFile);
    try {
      const scenarioName = name ?? journal.run(journal.resolveId(options.resume!)).scenario;
      const scenario = scenarioNamed(scenarioName);
      if (!scenario) {
        const guess = nearest(scenarioName, SCENARIOS.map((s) => s.name));
        throw new UsageError(`unknown scenario \`${scenarioName}\`${guess ? ` — did you mean \`${guess}\`?` : ''} (scenarios: ${SCENARIOS.map((s) => s.name).join(', ')})`);
      }
      if (!options.resume) {
        checkMachine(session.fleet, input.failed, '--failed');
        if (input.replacement) checkMachine(session.fleet, input.replacement, '--replacement');
        if (options.newBackup) {
          if (scenarioName !== 'primary-down') throw new UsageError(`--new-backup belongs to primary-down; for ${scenarioName} a spare is --replacement`);
          checkMachine(session.fleet, options.newBackup, '--new-backup');
        }
      }
      for (const m of options.confirmFenced ?? []) checkMachine(session.fleet, m, '--confirm-fenced');
      const mode = plan ? 'plan' : options.yes ? 'auto' : 'confirm';
      if (mode === 'confirm' && !process.stdin.isTTY) {
        throw new UsageError('not a terminal, so nobody can confirm each step: pass --yes to apply without questions, or --plan to see the plan');
      }
      const prompt = mode === 'confirm' ? ttyConfirm(process.stdin, process.stderr) : undefined;
      try {
        const run = await startRecovery({
          scenario,
          input,
          ctx: session.ctx,
          mode,
          journal,
          ...(options.resume && options.confirmFenced?.length ? { amend: { confirmedFenced: options.confirmFenced } } : {}),
          ...(prompt ? { confirm: prompt.confirm } : {}),
          ...(options.resume ? { resumeRunId: journal.resolveId(options.resume) } : {}),
          onProgress: progressPrinter(out),
          fleetFile: session.fleetFile,
        });
        out('\n' + (run.outcome === 'planned' ? renderPlan(run) : renderSummary(run)) + renderRoles(run.roles));
        if (options.json) process.stdout.write(JSON.stringify({ ...runToJson(run), roles: rolesToJson(run.roles) }, null, 2) + '\n');
        const checksFailed = run.steps.some((s) => s.state === 'failed');
        if (run.roles && 'error' in run.roles) return EXIT.unhealthy;
        return run.outcome === 'recovered' || (run.outcome === 'planned' && !checksFailed) ? EXIT.ok : EXIT.unhealthy;
      } finally {
        prompt?.close();
      }
    } finally {
      journal.close();
    }
  } finally {
    await session.close();
  }
}

function checkMachine(fleet: Parameters<typeof machine>[0], name: string, flag: string): void {
  if (fleet.machines.some((m) => m.name === name)) return;
  const names = fleet.machines.map((m) => m.name);
  const guess = nearest(name, names);
  throw new UsageError(`${flag}: no machine \`${name}\` in fleet ${fleet.name}${guess ? ` — did you mean \`${guess}\`?` : ''} (machines: ${names.join(', ')})`);
}
