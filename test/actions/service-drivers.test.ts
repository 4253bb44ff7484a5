// The ServiceDriver contract against a real supervisord and against plain shell commands.
// systemd cannot run on this machine (no systemd as PID 1): its command strings are
// unit-tested in src/actions/drivers/systemd.test.ts instead.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { driverFor } from '../../src/actions/drivers/index.ts';
import { LocalRemote } from '../../src/remote/local.ts';
import { serviceDriverContract } from './service-driver.contract.ts';
import { tempDir } from './support.ts';
import { startSupervisor, type TestSupervisor } from './support-supervisor.ts';

const remote = new LocalRemote('app');

describe('supervisor driver (real supervisord)', () => {
  let supervisor: TestSupervisor;
  before(async () => {
    supervisor = await startSupervisor({ sleeper: 'sleep 1000', other: 'sleep 1000' });
  });
  after(() => supervisor?.stop());
  serviceDriverContract('supervisor', () => ({
    remote,
    driver: driverFor('sleeper', { type: 'supervisor' }, { supervisorctl: supervisor.supervisorctl }),
    missing: driverFor('nope', { type: 'supervisor', program: 'no-such-program' }, { supervisorctl: supervisor.supervisorctl }),
  }));

  test('statuses asked at once are read with one supervisorctl, each program its own state', async () => {
    const options = { supervisorctl: supervisor.supervisorctl };
    const sleeper = driverFor('sleeper', { type: 'supervisor' }, options);
    const other = driverFor('other', { type: 'supervisor' }, options);
    const missing = driverFor('nope', { type: 'supervisor', program: 'no-such-program' }, options);
    await sleeper.start(remote);
    await other.stop(remote).catch(() => undefined);
    const commands: string[] = [];
    const counting = { ...remote, machine: remote.machine, run: (command: string, o?: Parameters<typeof remote.run>[1]) => { commands.push(command); return remote.run(command, o); } } as typeof remote;
    const states = await Promise.all([sleeper.status(counting), other.status(counting), missing.status(counting)]);
    assert.deepEqual(states, ['running', 'stopped', 'unknown']);
    assert.equal(commands.length, 1, commands.join('\n'));
    assert.match(commands[0]!, /status sleeper other no-such-program$/);
    // Asked one after the other, each is a command of its own (nothing is kept between asks).
    assert.equal(await other.status(counting), 'stopped');
    assert.equal(commands.length, 2);
  });
});

describe('command driver (shell commands with a pid file)', () => {
  let work: { dir: string; cleanup(): Promise<void> };
  before(async () => {
    work = await tempDir('command-driver');
  });
  after(async () => {
    // Stop a sleeper a failed test may have left behind, by its recorded pid.
    await remote.run(`[ -f ${join(work.dir, 'pid')} ] && kill $(cat ${join(work.dir, 'pid')}) 2>/dev/null; true`);
    await work?.cleanup();
  });
  const commands = (dir: string) => ({
    type: 'command' as const,
    start: `setsid sleep 1000 >/dev/null 2>&1 < /dev/null & echo $! > ${dir}/pid`,
    stop: `[ -f ${dir}/pid ] && kill $(cat ${dir}/pid) && rm -f ${dir}/pid`,
    status: `[ -f ${dir}/pid ] && kill -0 $(cat ${dir}/pid) 2>/dev/null || exit 3`,
  });
  serviceDriverContract('command', () => ({
    remote,
    driver: driverFor('sleeper', commands(work.dir)),
    missing: driverFor('nope', { type: 'command', start: 'exit 1', stop: 'exit 1', status: 'exit 3' }),
  }));
});
