/**
 * A real MariaDB + Redis, the `speed` schema, and the stand-ins' config files written under
 * a temp root exactly as they sit under /wwwroot/go on a machine. Services run as real
 * processes through main.ts, stopped by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configFiles, type ServiceName } from '../../src/lab/apps/config.ts';
import { applySchema, seedDomains } from '../../src/lab/apps/schema.ts';
import { freePort, startMariadb, stopChild, waitFor, type MariadbServer } from '../support/mariadb.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const FLEET = {
  machines: [
    { address: '198.51.100.21', domains: ['a.example.com', 'b.example.com'] },
    { address: '198.51.100.22', domains: ['c.example.com'] },
  ],
};

/** The seed's schema and domain table, as examples/go-speed/fleet.yaml names them. */
export const SEED_DATABASE = {
  schema: 'speed',
  domainTable: { name: 't_app_dns', domainColumn: 'domain', ipColumn: 'ip', statusColumn: 'status', online: 1 },
};

export interface Fixture {
  db: MariadbServer;
  redis: RedisServer;
  root: string;
  ports: Record<ServiceName, number>;
  speedPassword: string;
  /** Spawns `main.ts service --config-root root`; resolves once /healthz answered 200. */
  spawnService(service: ServiceName, options?: { root?: string; wrap?: string[] }): Promise<ChildProcess>;
  /** Spawns without waiting; the caller watches the exit. */
  spawnRaw(service: ServiceName, root?: string, wrap?: string[]): ChildProcess;
  stop(): Promise<void>;
}

export async function writeConfigs(root: string, mysql: string, redis: string, ports: Record<ServiceName, number>, password: string): Promise<void> {
  const link = `mysql:speed:${password}@tcp(${mysql})/speed?charset=utf8mb4`;
  const goframe = (port: number, extra = '') =>
    `# GoFrame config, as on the real machines\nserver:\n  address: ":${port}"\ndatabase:\n  default:\n    link: "${link}"\n` +
    `redis:\n  default:\n    address: "${redis}"\n    db: 0\n${extra}`;
  const [mysqlHost, mysqlPort] = mysql.split(':');
  const files: Record<string, string> = {
    [configFiles('go-api', root).main]: goframe(ports['go-api'], 'session:\n  ttlSeconds: 600\n'),
    [configFiles('go-admin', root).main]: goframe(ports['go-admin']),
    [configFiles('go-upload', root).main]: goframe(ports['go-upload'], `upload:\n  dir: ${join(root, 'wwwroot/go/go-upload/uploads')}\n`),
    [configFiles('go-job', root).main]: goframe(ports['go-job'], 'job:\n  intervalSeconds: 0.5\n  busySeconds: 0.3\n'),
    [configFiles('go-fly', root).main]: JSON.stringify({ Server: mysqlHost, Port: mysqlPort, Database: 'speed', Username: 'speed', Password: password }, null, 2),
    [configFiles('go-fly', root).server!]: JSON.stringify({ Port: String(ports['go-fly']) }),
  };
  for (const [file, text] of Object.entries(files)) {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text, { mode: 0o600 });
  }
}

export async function startFixture(): Promise<Fixture> {
  const [db, redis] = await Promise.all([startMariadb(), startRedis()]);
  const root = await mkdtemp(join(tmpdir(), 'lifeboat-apps-'));
  const children = new Set<ChildProcess>();
  const speedPassword = 'sp-' + Math.random().toString(36).slice(2);
  const admin = await db.connect();
  try {
    await applySchema(admin, SEED_DATABASE, { rich: true });
    await applySchema(admin, SEED_DATABASE, { rich: true }); // idempotent
    await seedDomains(admin, SEED_DATABASE, FLEET);
    await admin.query("CREATE USER 'speed'@'%' IDENTIFIED BY ?", [speedPassword]);
    await admin.query("GRANT ALL PRIVILEGES ON speed.* TO 'speed'@'%'");
  } finally {
    await admin.end();
  }
  const ports = {} as Record<ServiceName, number>;
  for (const s of ['go-api', 'go-admin', 'go-fly', 'go-upload', 'go-job'] as const) ports[s] = await freePort();
  await writeConfigs(root, `127.0.0.1:${db.port}`, `127.0.0.1:${redis.port}`, ports, speedPassword);

  const spawnRaw = (service: ServiceName, configRoot = root, wrap: string[] = []) => {
    const args = ['--import', 'tsx', join(REPO, 'src/lab/apps/main.ts'), service, '--config-root', configRoot];
    const child = wrap.length
      ? spawn(wrap[0]!, [...wrap.slice(1), process.execPath, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    child.once('exit', () => children.delete(child));
    // Keep the pipes flowing even when nobody reads them: a full pipe would stall the service.
    child.stdout?.resume();
    child.stderr?.resume();
    return child;
  };
  return {
    db, redis, root, ports, speedPassword, spawnRaw,
    spawnService: async (service, options = {}) => {
      const child = spawnRaw(service, options.root ?? root, options.wrap);
      let output = '';
      child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
      child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
      await waitFor(async () => {
        if (child.exitCode !== null) throw new Error(`${service} exited ${child.exitCode}: ${output}`);
        const res = await fetch(`http://127.0.0.1:${ports[service]}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (res.status !== 200) throw new Error(`${service} /healthz ${res.status}: ${await res.text()}`);
      }, 60_000).catch(async (error: unknown) => {
        await stopChild(child, 5000);
        throw error;
      });
      return child;
    },
    stop: async () => {
      await Promise.all([...children].map((c) => stopChild(c, 5000)));
      await Promise.all([db.stop(), redis.stop()]);
      await rm(root, { recursive: true, force: true });
    },
  };
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers },
    signal: AbortSignal.timeout(3000),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

export async function get(url: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}
