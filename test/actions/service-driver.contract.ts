/**
 * The contract every ServiceDriver must meet, run against each driver that can run here.
 * `make(name)` returns a driver for a program that is stopped at the start of the suite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceDriver } from '../../src/actions/drivers/index.ts';
import type { Remote } from '../../src/remote/remote.ts';

export function serviceDriverContract(kind: string, setup: () => { remote: Remote; driver: ServiceDriver; missing: ServiceDriver }): void {
  test(`${kind}: a stopped program reports stopped`, async () => {
    const { remote, driver } = setup();
    assert.equal(await driver.status(remote), 'stopped');
  });
  test(`${kind}: start → running, stop → stopped`, async () => {
    const { remote, driver } = setup();
    await driver.start(remote);
    assert.equal(await driver.status(remote), 'running');
    await driver.stop(remote);
    assert.equal(await driver.status(remote), 'stopped');
  });
  test(`${kind}: restart works from stopped and from running`, async () => {
    const { remote, driver } = setup();
    await driver.restart(remote);
    assert.equal(await driver.status(remote), 'running');
    await driver.restart(remote);
    assert.equal(await driver.status(remote), 'running');
    await driver.stop(remote);
    assert.equal(await driver.status(remote), 'stopped');
  });
  test(`${kind}: an unknown program is not reported running, and starting it fails`, async () => {
    const { remote, missing } = setup();
    assert.notEqual(await missing.status(remote), 'running');
    await assert.rejects(missing.start(remote), (e) => (e as { code?: string }).code === 'command-failed');
  });
  test(`${kind}: commands are exposed for plans`, () => {
    const { driver } = setup();
    for (const op of ['start', 'stop', 'restart', 'status'] as const) assert.ok(driver.commands[op].length > 0);
  });
}
