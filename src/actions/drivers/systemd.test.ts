// No systemd runs on this machine (no systemd as PID 1), so this driver is checked by the
// commands it would run and by how it reads `systemctl is-active`, not against a real systemd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Remote, RunResult } from '../../remote/remote.ts';
import { driverFor } from './index.ts';
import { systemdState } from './systemd.ts';
import { supervisorState } from './supervisor.ts';
import { commandState } from './command.ts';

function recorder(answers: Record<string, Partial<RunResult>>): Remote & { ran: string[] } {
  const ran: string[] = [];
  return {
    machine: 'app',
    ran,
    async run(command) {
      ran.push(command);
      return { code: 0, stdout: '', stderr: '', ms: 0, ...answers[command] };
    },
    readFile: () => Promise.reject(new Error('unused')),
    writeFile: () => Promise.reject(new Error('unused')),
    upload: () => Promise.reject(new Error('unused')),
    download: () => Promise.reject(new Error('unused')),
    close: async () => {},
  };
}

test('systemd driver runs systemctl on the unit, defaulting to <service>.service', async () => {
  const driver = driverFor('go-api', { type: 'systemd' });
  assert.deepEqual(driver.commands, {
    start: 'systemctl start go-api.service',
    stop: 'systemctl stop go-api.service',
    restart: 'systemctl restart go-api.service',
    status: 'systemctl is-active go-api.service',
  });
  const remote = recorder({ 'systemctl is-active api.service': { code: 3, stdout: 'inactive\n' } });
  const named = driverFor('go-api', { type: 'systemd', unit: 'api.service' });
  assert.equal(await named.status(remote), 'stopped');
  await named.start(remote);
  assert.deepEqual(remote.ran, ['systemctl is-active api.service', 'systemctl start api.service']);
});

test('systemd start failure surfaces as a command-failed error', async () => {
  const remote = recorder({ 'systemctl start x.service': { code: 5, stderr: 'Unit x.service not found.' } });
  await assert.rejects(driverFor('x', { type: 'systemd' }).start(remote), (e) => (e as { code?: string }).code === 'command-failed' && /not found/.test((e as Error).message));
});

test('state words of each tool map to running/stopped/unknown', () => {
  assert.equal(systemdState('active\n'), 'running');
  assert.equal(systemdState('failed'), 'stopped');
  assert.equal(systemdState('activating'), 'unknown');
  assert.equal(supervisorState('go-api                           RUNNING   pid 12, uptime 0:01:02'), 'running');
  assert.equal(supervisorState('go-api                           EXITED    Nov 24 00:20 AM'), 'stopped');
  assert.equal(supervisorState('nope: ERROR (no such process)'), 'unknown');
  assert.equal(commandState(0), 'running');
  assert.equal(commandState(3), 'stopped');
  assert.equal(commandState(4), 'unknown');
});
