/**
 * `lifeboat hosts trust MACHINE --fingerprint SHA256:…`: the one way a changed (or a new)
 * SSH host key becomes known. The operator reads the fingerprint on the machine's console;
 * lifeboat reads the key the machine offers now and pins it only if the two are the same.
 */
import type { Command } from 'commander';
import { loadFleet } from '../../fleet/load.ts';
import { secretBaseDir } from '../../fleet/secrets.ts';
import { offeredHostKey } from '../../remote/host-key-scan.ts';
import { checkHostKey, fingerprintSha256, keyTypeOf, loadKnownHosts, pinHostKey, sameFingerprint } from '../../remote/known-hosts.ts';
import { sshTargetOf } from '../../remote/pool.ts';
import { EXIT, UsageError } from '../exit.ts';
import { fleetFileOf, fleetOption } from '../options.ts';

export function registerHosts(program: Command): void {
  const hosts = program.command('hosts').description("The machines' SSH host keys in known_hosts");
  fleetOption(hosts.command('trust'))
    .argument('<machine>', 'the machine, as the fleet file names it')
    .requiredOption('--fingerprint <sha256>', "the host key's fingerprint as read on the machine's console (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`), SHA256:…")
    .option('--json', 'machine-readable output')
    .description('Pin the host key a machine offers now, if its fingerprint is the one given: it replaces the lines that named the machine with another key (the previous file kept as known_hosts.old)')
    .addHelpText('after', '\nExit codes: 0 pinned (or already the known key), 1 the offered key is not the one given (nothing changed), 2 bad input.')
    .action(async (name: string, options: { fleet?: string; fingerprint: string; json?: boolean }) => {
      if (!/^(SHA256:)?[A-Za-z0-9+/]{43}=?$/.test(options.fingerprint.trim())) {
        throw new UsageError(`--fingerprint ${JSON.stringify(options.fingerprint)}: expected SHA256:… as ssh-keygen -lf prints it (43 base64 characters)`);
      }
      const path = fleetFileOf(options);
      const fleet = await loadFleet(path);
      const target = sshTargetOf(fleet, name, { baseDir: secretBaseDir(path) });
      const entries = await loadKnownHosts(target.knownHostsFile);
      const key = await offeredHostKey({ machine: target.machine, host: target.host, port: target.port, entries, timeoutMs: target.ssh.connectTimeoutMs });
      const offered = `${keyTypeOf(key)} ${fingerprintSha256(key)}`;
      const address = `${target.host}:${target.port}`;
      if (!sameFingerprint(options.fingerprint, key)) {
        const result = { machine: name, address, pinned: false, offered: fingerprintSha256(key), expected: options.fingerprint.trim() };
        process.stdout.write(options.json ? JSON.stringify(result, null, 2) + '\n'
          : `NOT pinned: ${name} (${address}) offers ${offered}, not ${options.fingerprint.trim()}. Nothing changed; ` +
            `if you read the fingerprint on the machine's console, something between you and it is not the machine.\n`);
        process.exitCode = EXIT.unhealthy;
        return;
      }
      const before = checkHostKey(entries, target.host, target.port, key).status;
      const pin = await pinHostKey(target.knownHostsFile, target.host, target.port, key);
      const result = {
        machine: name, address, pinned: true, fingerprint: fingerprintSha256(key), knownHosts: target.knownHostsFile, wasKnown: before === 'known',
        removedLines: pin.removed.map((e) => e.lineNumber), wildcardLines: pin.wildcards.map((e) => e.lineNumber),
      };
      if (options.json) {
        process.stdout.write(JSON.stringify(result, null, 2) + '\n');
        return;
      }
      const lines = [`pinned ${name} (${address}) ${offered} in ${target.knownHostsFile}${before === 'known' ? ' (it was already known)' : ''}`];
      if (pin.removed.length) lines.push(`  removed line ${pin.removed.map((e) => e.lineNumber).join(', ')} (another key for ${name}); the previous file is ${target.knownHostsFile}.old`);
      if (pin.wildcards.length) lines.push(`  note: line ${pin.wildcards.map((e) => e.lineNumber).join(', ')} (a wildcard) also matches ${name} with another key; left as it is`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
