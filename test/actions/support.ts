/**
 * Shared pieces of the action tests: an ActionContext whose machines are all this machine
 * (through the real LocalRemote), a minimal valid fleet, and free loopback ports.
 */
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActionContext } from '../../src/actions/action.ts';
import { fleetSchema, type Fleet, type FleetInput } from '../../src/fleet/schema.ts';
import { LocalRemote } from '../../src/remote/local.ts';
import type { Remote } from '../../src/remote/remote.ts';

export function testFleet(extra: Partial<FleetInput> = {}): Fleet {
  return fleetSchema.parse({
    version: 1,
    name: 'test',
    // These "machines" share this one: TLS between machines is tested in the lab (test/prepare/lab-prepare.test.ts, the drills' wire capture).
    tls: { enabled: false },
    machines: [
      { name: 'edge', address: '127.0.0.1', roles: ['edge'] },
      { name: 'app', address: '127.0.0.1', roles: ['app', 'db-primary', 'redis'] },
    ],
    ...extra,
  });
}

export interface TestContext extends ActionContext {
  logs: string[];
  remotes: Map<string, Remote>;
}

export function localContext(fleet: Fleet = testFleet(), secrets: Record<string, string> = {}): TestContext {
  const remotes = new Map<string, Remote>();
  const logs: string[] = [];
  return {
    fleet,
    logs,
    remotes,
    remote(machine) {
      let remote = remotes.get(machine);
      if (!remote) remotes.set(machine, (remote = new LocalRemote(machine)));
      return remote;
    },
    async secret(ref) {
      const value = secrets[ref];
      if (value === undefined) throw new Error(`test secret ${ref} not set`);
      return value;
    },
    log(message) {
      logs.push(message);
    },
  };
}

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `lifeboat-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Waits until `check` resolves true; bounded, so a broken test ends. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000, stepMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
