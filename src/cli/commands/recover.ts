/**
 * `lifeboat recover [SCENARIO] --failed MACHINE`: run a runbook scenario as journaled,
 * verified steps. Without a scenario it looks at the fleet, names what it sees and shows
 * the plan. `--plan` changes nothing; on a terminal every mutating step is confirmed;
 * `--yes` asks nothing; `--resume ID` continues a run that stopped.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { fleetStatus } from '../../health/fleet-status.ts';
import { machine } from '../../fleet/model.ts';
import { diagnose } from '../../recovery/diagnose.ts';
import { runRecovery } from '../../recovery/engine.ts';
import { Journal } from '../../recovery/journal.ts';
import { ttyConfirm } from '../../recovery/prompt.ts';
import { progressPrinter, renderPlan, renderSummary, runToJson } from '../../recovery/render.ts';
import { scenarioNamed, SCENARIOS } from '../../recovery/scenarios/index.ts';
import type { ScenarioInput } from '../../recovery/step.ts';
import { nearest } from '../../util/suggest.ts';
import { EXIT, UsageError } from '../exit.ts';
import { fleetFileFrom, stateFileFrom } from '../options.ts';
import { openSession } from '../session.ts';

export interface RecoverOptions {
  fleet?: string;
  failed?: string;
  replacement?: string;
  plan?: boolean;
  yes?: boolean;
  resume?: string;
  force?: boolean;
  json?: boolean;
  state?: string;
  acceptNewHostKeys?: boolean;
}

export function registerRecover(program: Command): void {
  program
    .command('recover')
    .description('Run a recovery scenario of the runbook as journaled, verified steps (no scenario: diagnose and show the plan)')
    .argument('[scenario]', `one of: ${SCENARIOS.map((s) => s.name).join(', ')}`)
    .option('-f, --fleet <file>', 'fleet file (default: $LIFEBOAT_FLEET or ./fleet.yaml)')
    .option('--failed <machine>', 'the machine that failed, as named in the fleet file')
    .option('--replacement <machine>', 'a spare (or the surviving machine) that takes over')
    .option('--plan', 'print every command, SQL statement and file diff; change nothing')
    .option('-y, --yes', 'apply every step without asking (the default asks on a terminal)')
    .option('--resume <run>', 'continue a run that stopped (crash, failure or a "no")')
    .option('--force', 'go on although the failed machine looks healthy (e.g. blocked only from some vantage points)')
    .option('--json', 'print the run as JSON at the end')
    .option('--state <path>', 'state file (default: $LIFEBOAT_STATE or ~/.lifeboat/state.db)')
    .option('--accept-new-host-keys', 'add unknown SSH host keys to known_hosts (changed keys are always refused)')
    .addHelpText(
      'after',
      `
Scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(14)} ${s.describe}`).join('\n')}

Exit codes: 0 recovered (or planned and every check passed), 1 a step or check failed, 2 bad input.`,
    )
    .action(async (name: string | undefined, options: RecoverOptions) => {
      process.exitCode = await recover(name, options);
    });
}

export async function recover(name: string | undefined, options: RecoverOptions): Promise<number> {
  const out = (text: string) => (options.json ? process.stderr : process.stdout).write(text);
  const session = await openSession(fleetFileFrom(options.fleet), {
    acceptNewHostKeys: options.acceptNewHostKeys ?? false,
    log: (line) => process.stderr.write(`    ${line}\n`),
  });
  try {
    let input: ScenarioInput;
    let plan = options.plan ?? false;
    if (!name && !options.resume) {
      const status = await fleetStatus(session.fleet, { remote: session.ctx.remote, secret: session.ctx.secret });
      const found = diagnose(session.fleet, status);
      if (found.length === 0) {
        out('Every machine answers: nothing to recover. (`lifeboat status` shows the details.)\n');
        return EXIT.ok;
      }
      for (const d of found) out(`Diagnosis: ${d.scenario} — ${d.why}\n`);
      const first = found[0]!;
      name = first.scenario;
      input = { failed: first.failed, ...(first.replacement ? { replacement: first.replacement } : {}) };
      plan = true;
      out(`Showing the plan for the first one; to run it: lifeboat recover ${name} --failed ${first.failed}${first.replacement ? ` --replacement ${first.replacement}` : ''}\n\n`);
    } else {
      if (!options.failed && !options.resume) throw new UsageError('say which machine failed: --failed MACHINE');
      input = { failed: options.failed ?? '', ...(options.replacement ? { replacement: options.replacement } : {}), ...(options.force ? { force: true } : {}) };
    }
    const stateFile = stateFileFrom(options.state);
    mkdirSync(dirname(stateFile), { recursive: true });
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
      }
      const mode = plan ? 'plan' : options.yes ? 'auto' : 'confirm';
      if (mode === 'confirm' && !process.stdin.isTTY) {
        throw new UsageError('not a terminal, so nobody can confirm each step: pass --yes to apply without questions, or --plan to see the plan');
      }
      const prompt = mode === 'confirm' ? ttyConfirm(process.stdin, process.stderr) : undefined;
      try {
        const run = await runRecovery({
          scenario,
          input,
          ctx: session.ctx,
          mode,
          journal,
          ...(prompt ? { confirm: prompt.confirm } : {}),
          ...(options.resume ? { resumeRunId: journal.resolveId(options.resume) } : {}),
          onProgress: progressPrinter(out),
        });
        out('\n' + (run.outcome === 'planned' ? renderPlan(run) : renderSummary(run)));
        if (options.json) process.stdout.write(JSON.stringify(runToJson(run), null, 2) + '\n');
        const checksFailed = run.steps.some((s) => s.state === 'failed');
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
