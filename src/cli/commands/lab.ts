/**
 * `lifeboat lab ...`: build a real replica of the fleet on this machine (network namespaces,
 * real sshd, MariaDB, Redis, nginx, supervisor, BIND), inject faults and take it down.
 */
import type { Command } from 'commander';
import { describeFault, FAULT_KINDS } from '../../lab/fault-kinds.ts';
import { parseFault } from '../../lab/faults.ts';
import { DEFAULT_LAB_ID, Lab, type LabStatus } from '../../lab/lab.ts';
import { mib } from '../../lab/lab-status.ts';
import { shq } from '../../remote/remote.ts';
import { fleetFileOf, fleetOption, legacyFleetArgument } from '../options.ts';

const out = (line: string) => process.stdout.write(line + '\n');

function renderStatus(s: LabStatus): string {
  const lines = [`lab ${s.id} — fleet file ${s.fleetFile}`];
  for (const h of s.hosts) {
    const servers = Object.entries(h.servers)
      .map(([name, ok]) => `${name}${ok ? '' : '(DOWN)'}`)
      .join(' ');
    const programs = Object.entries(h.programs)
      .map(([name, state]) => (state === 'RUNNING' ? name : `${name}(${state})`))
      .join(' ');
    const state = !h.running ? 'STOPPED' : !h.link ? 'NO-LINK' : 'up';
    lines.push(`  ${h.name.padEnd(10)} ${h.address.padEnd(15)} ${state.padEnd(8)} ${h.kind.padEnd(6)} ${(h.roles.join(',') || '-').padEnd(40)} ${servers}${programs ? ` | ${programs}` : ''}`);
  }
  lines.push(`memory: ${mib(s.memory.pssBytes)} in ${s.memory.processes} processes + ${mib(s.memory.diskBytes)} on the hosts' disks (tmpfs)`);
  lines.push(s.faults.length ? `faults in force:\n${s.faults.map((f) => `  ${describeFault(f)}  (since ${f.since})`).join('\n')}` : 'faults in force: none');
  return lines.join('\n');
}

export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description('A real replica of the fleet on this machine (needs root): up, status, exec, fault, heal, down');

  fleetOption(legacyFleetArgument(lab.command('up')))
    .description('Build the lab from a fleet file, or check and repair it when it is up; writes a derived fleet file')
    .option('--id <id>', 'lab id, prefixes every namespace name', DEFAULT_LAB_ID)
    .action(async (file: string | undefined, options: { id: string; fleet?: string }) => {
      await Lab.up({ id: options.id, fleetFile: fleetFileOf(options, file), log: out });
    });

  lab
    .command('down')
    .description('Stop every host and remove the namespaces, mounts and files of the lab')
    .option('--id <id>', 'lab id', DEFAULT_LAB_ID)
    .action(async (options: { id: string }) => {
      const started = performance.now();
      await Lab.down(options.id);
      out(`lab ${options.id} down in ${((performance.now() - started) / 1000).toFixed(2)} s; nothing left behind`);
    });

  lab
    .command('status')
    .description('Hosts, servers and faults in force')
    .option('--id <id>', 'lab id', DEFAULT_LAB_ID)
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExit codes: 0 every host and server up (faults aside), 1 something is down.')
    .action(async (options: { id: string; json?: boolean }) => {
      const status = await (await Lab.open(options.id)).status();
      out(options.json ? JSON.stringify(status, null, 2) : renderStatus(status));
      const down = status.hosts.some(
        (h) => !h.running || !h.link || Object.values(h.servers).some((ok) => !ok) || Object.values(h.programs).some((p) => p !== 'RUNNING'),
      );
      if (down) process.exitCode = 1;
    });

  lab
    .command('list')
    .description('Labs on this machine (a lab with namespaces but no state is half-built: `lab down --id` removes it)')
    .action(async () => {
      const labs = await Lab.list();
      if (labs.length === 0) out('no lab on this machine');
      for (const l of labs) out(`${l.id.padEnd(10)} ${String(l.hosts).padStart(3)} hosts${l.state ? '' : '  (no state: half-built)'}`);
    });

  lab
    .command('exec')
    .description('Run a command inside a lab host (as root, with the host\'s own files and network)')
    .argument('<host>', 'host name')
    .argument('<command...>', 'after --: one shell command line, or a program and its arguments')
    .option('--id <id>', 'lab id', DEFAULT_LAB_ID)
    .option('--timeout <ms>', 'kill the command after this many milliseconds', (v) => Number(v))
    .action(async (host: string, command: string[], options: { id: string; timeout?: number }) => {
      const opened = await Lab.open(options.id);
      // One argument is a shell command line ('a | b'); several are a program and its
      // arguments, quoted so `-- mariadb -e 'SELECT 1'` keeps its spaces.
      const line = command.length === 1 ? command[0]! : command.map(shq).join(' ');
      const result = await opened.exec(host, line, options.timeout ? { timeoutMs: options.timeout } : {});
      process.stdout.write(result.stdout);
      process.stderr.write(result.stderr);
      process.exitCode = result.code ?? 1;
    });

  lab
    .command('fault')
    .description(`Inject a fault: ${FAULT_KINDS.join(', ')}`)
    .argument('<kind>', 'fault kind')
    .argument('<target...>', 'host(s), then port or program where the kind needs one, or a domain')
    .option('--id <id>', 'lab id', DEFAULT_LAB_ID)
    .addHelpText(
      'after',
      `
Examples (MACHINE, PROGRAM and DOMAIN as the fleet file names them):
  lifeboat lab fault machine-down MACHINE
  lifeboat lab fault link-down MACHINE          (cable pulled, its processes run on)
  lifeboat lab fault partition MACHINE OTHER-MACHINE
  lifeboat lab fault ip-blocked MACHINE         (the client cannot reach it)
  lifeboat lab fault port-blocked MACHINE 3306
  lifeboat lab fault domain-blocked DOMAIN      (the client's DNS answer is poisoned)
  lifeboat lab fault service-crashed MACHINE PROGRAM
  lifeboat lab fault mariadb-crashed MACHINE
  lifeboat lab fault disk-full MACHINE`,
    )
    .action(async (kind: string, target: string[], options: { id: string }) => {
      const spec = parseFault(kind, target);
      await (await Lab.open(options.id)).fault(spec);
      out(`fault in force: ${describeFault(spec)}`);
    });

  lab
    .command('heal')
    .description('Undo one fault (same arguments as `lab fault`), or every fault in force')
    .argument('[kind]', 'fault kind')
    .argument('[target...]', 'as for `lab fault`')
    .option('--id <id>', 'lab id', DEFAULT_LAB_ID)
    .action(async (kind: string | undefined, target: string[], options: { id: string }) => {
      const opened = await Lab.open(options.id);
      const spec = kind ? parseFault(kind, target) : undefined;
      const before = opened.faults.length;
      await opened.heal(spec);
      out(spec ? `healed: ${describeFault(spec)}` : `healed ${before} fault${before === 1 ? '' : 's'}`);
    });
}
