import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FleetError } from './errors.ts';
import { loadFleet, parseFleet } from './load.ts';

const example = new URL('../../examples/go-speed/fleet.yaml', import.meta.url);
const base = readFileSync(example, 'utf8');

/** Replaces exactly one occurrence, so a variant never silently stops changing anything. */
function variant(from: string, to: string): string {
  assert.equal(base.split(from).length, 2, `expected exactly one occurrence of ${JSON.stringify(from)}`);
  return base.replace(from, to);
}

function lineOf(text: string, needle: string): number {
  const index = text.indexOf(needle);
  assert.ok(index >= 0, `${needle} not in text`);
  return text.slice(0, index).split('\n').length;
}

function problems(text: string): string[] {
  try {
    parseFleet(text, 'fleet.yaml');
  } catch (error) {
    assert.ok(error instanceof FleetError, `expected a FleetError, got ${String(error)}`);
    return error.problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.path}: ${p.message}`);
  }
  assert.fail('the broken fleet file was accepted');
}

test('the go-speed example is valid and complete', async () => {
  const fleet = await loadFleet(example.pathname);
  assert.deepEqual(fleet.machines.map((m) => m.name), ['edge-1', 'edge-2', 'primary', 'backup', 'report', 'hk']);
  assert.deepEqual(Object.keys(fleet.services), ['go-api', 'go-admin', 'go-fly', 'go-upload', 'go-job']);
  assert.deepEqual(fleet.backups?.stores, ['backup', 'report', 'hk']);
  assert.equal(fleet.database?.domainTable.name, 't_app_dns');
  assert.deepEqual(fleet.database?.logTables, ['user_logs']);
  assert.deepEqual(
    fleet.bindings.map((b) => b.file),
    ['/wwwroot/go/go-api/config.yaml', '/wwwroot/go/go-admin/config.yaml', '/wwwroot/go/go-fly/config/mysql.json',
      '/wwwroot/go/go-upload/config.yaml', '/wwwroot/go/go-job/config.yaml'],
  );
  assert.equal(fleet.crontabs['db-primary']?.length, 5);
  assert.equal(fleet.crontabs['db-replica']?.length, 4);
});

const cases: Array<{ name: string; text: string; at: string; expect: RegExp }> = [
  {
    name: 'a typo in a role suggests the nearest role',
    text: variant('roles: [app, db-primary, redis, upload, job]', 'roles: [app, db-primry, redis, upload, job]'),
    at: 'db-primry',
    expect: /machines\[2\]\.roles\[1\]: role `db-primry` is not valid — did you mean `db-primary`\?/,
  },
  {
    name: 'an unknown key suggests the known one and is not also reported missing',
    text: variant('    address: 185.22.152.9', '    adress: 185.22.152.9'),
    at: 'adress',
    expect: /^fleet\.yaml:\d+:5: machines\[1\]\.adress: unknown key `adress` — did you mean `address`\?$/,
  },
  {
    name: 'a duplicate address names the machine that has it',
    text: variant('address: 185.22.154.21', 'address: 185.22.152.47'),
    at: 'address: 185.22.152.47\n    roles: [backup-store]',
    expect: /machines\[4\]\.address: address 185\.22\.152\.47 is already used by machine `backup`/,
  },
  {
    name: 'a binding to an undeclared service',
    text: variant('  - service: go-fly\n', '  - service: go-fy\n'),
    at: 'go-fy',
    expect: /bindings\[2\]\.service: unknown service `go-fy` — did you mean `go-fly`\?/,
  },
  {
    name: 'two job singletons',
    text: variant('roles: [app, db-replica, redis-replica, backup-store]', 'roles: [app, db-replica, redis-replica, backup-store, job]'),
    at: 'singleton: true\n    priority: later\n\n',
    expect: /services\.go-job\.singleton: service `go-job` is a singleton but would run on 2 machines \(primary, backup\)/,
  },
  {
    name: 'an inline secret',
    text: variant('password: env:SPEED_DB_PASSWORD', 'password: hunter2'),
    at: 'hunter2',
    expect: /database\.password: inline secret: write `env:NAME`/,
  },
  {
    name: 'a YAML syntax error',
    text: variant('    dir: /wwwroot/go/go-api\n', '   dir: /wwwroot/go/go-api\n'),
    at: '   dir: /wwwroot/go/go-api',
    expect: /YAML syntax/,
  },
  {
    name: 'a cron schedule with three fields',
    text: variant('{ schedule: "* * * * *", command: "python3 /shell/port.py" }', '{ schedule: "* * *", command: "python3 /shell/port.py" }'),
    at: '"* * *"',
    expect: /crontabs\.db-replica\[2\]\.schedule: expected a five-field cron schedule/,
  },
  {
    name: 'a typo in a driver type',
    text: variant('driver: { type: supervisor }\n    health: { type: http, port: 8002', 'driver: { type: supervisr }\n    health: { type: http, port: 8002'),
    at: 'supervisr',
    expect: /services\.go-fly\.driver\.type: type `supervisr` is not valid — did you mean `supervisor`\?/,
  },
  {
    name: 'a typo inside a health check',
    text: variant('health: { type: http, port: 8001, path: /healthz }', 'health: { type: http, prot: 8001, path: /healthz }'),
    at: 'prot',
    expect: /services\.go-admin\.health\.prot: unknown key `prot` — did you mean `port`\?/,
  },
  {
    name: 'a typo in a watch policy\'s scenario',
    text: `${base}\nwatch:\n  policy:\n    primary-dwon: auto\n`,
    at: 'primary-dwon',
    expect: /watch\.policy\.primary-dwon: unknown key `primary-dwon` — did you mean `primary-down`\?/,
  },
  {
    name: 'a blocked verdict given a policy no runbook backs',
    text: `${base}\nwatch:\n  policy:\n    domain-blocked: auto\n`,
    at: 'auto',
    expect: /watch\.policy\.domain-blocked: no runbook acts on domain-blocked yet: its only policy is notify/,
  },
  {
    name: 'a missing address',
    text: variant('    address: 185.22.154.21\n', ''),
    at: '- name: report',
    expect: /machines\[4\]: missing required key `address`/,
  },
  {
    name: 'a backup store that is not a machine',
    text: variant('stores: [backup, report, hk]', 'stores: [backup, reprot, hk]'),
    at: 'stores:',
    expect: /backups\.stores\[1\]: unknown machine `reprot` — did you mean `report`\?/,
  },
  {
    name: 'a service no machine runs',
    text: variant('    roles: [job]\n', '    roles: [spare]\n'),
    at: 'roles: [spare]',
    expect: /services\.go-job\.roles: service `go-job` runs on no machine/,
  },
  {
    name: 'an address that is not an IPv4 address',
    text: variant('address: 45.251.243.140', 'address: 45.251.243'),
    at: '45.251.243\n',
    expect: /machines\[5\]\.address: expected an IPv4 address/,
  },
  {
    name: 'a domain listed on two machines',
    text: variant('domains: [beiyo.xyz]', 'domains: [beiyo.xyz, thertee.xyz]'),
    at: 'beiyo.xyz, thertee.xyz',
    expect: /machines\[3\]\.domains\[1\]: domain thertee\.xyz is already listed on machine `edge-1`/,
  },
  {
    name: 'two database primaries',
    text: variant('roles: [app, db-replica, redis-replica, backup-store]', 'roles: [app, db-primary, redis-replica, backup-store]'),
    at: 'db-primary, redis-replica',
    expect: /machines\[3\]\.roles\[1\]: exactly one machine must hold role `db-primary` \(found 2: primary, backup\)/,
  },
  {
    name: "a stable endpoint on the database's own port",
    text: variant('  databasePort: 13306', '  databasePort: 3306'),
    at: 'databasePort: 3306',
    expect: /endpoints\.databasePort: port 3306 is already used by MariaDB on the same machines/,
  },
  {
    name: "a stable endpoint on a service's port",
    text: variant('  redisPort: 16379', '  redisPort: 8000'),
    at: 'redisPort: 8000',
    expect: /endpoints\.redisPort: port 8000 is already used by service `go-api`/,
  },
  {
    name: "Redis's TLS listener on a service's port",
    text: `${base}\ntls:\n  redisPort: 8000\n`,
    at: 'redisPort: 8000',
    expect: /tls\.redisPort: port 8000 is already used by service `go-api`: the TLS listener needs a port of its own/,
  },
  {
    name: 'a typo in the TLS section',
    text: `${base}\ntls:\n  enabeld: false\n`,
    at: 'enabeld',
    expect: /tls\.enabeld: unknown key `enabeld` — did you mean `enabled`\?/,
  },
];

for (const c of cases) {
  test(`fleet check rejects ${c.name}`, () => {
    const found = problems(c.text);
    const line = lineOf(c.text, c.at);
    const match = found.find((p) => c.expect.test(p));
    assert.ok(match, `no problem matched ${c.expect}; got:\n${found.join('\n')}`);
    assert.match(match, new RegExp(`^fleet\\.yaml:${line}:\\d+: `), `wrong line for ${c.name}: ${match}`);
  });
}

test('every problem of a file is reported at once, in line order', () => {
  const text = base
    .replace('roles: [app, db-primary, redis, upload, job]', 'roles: [app, db-primry, redis, upload, job]')
    .replace('password: env:SPEED_DB_PASSWORD', 'password: hunter2');
  const found = problems(text);
  assert.equal(found.length, 2);
  assert.ok(found[0]!.includes('db-primry') && found[1]!.includes('inline secret'));
  assert.ok(!found.join('\n').includes('hunter2'), 'a secret value must never be echoed back');
});

test('a missing file is a clear fleet error', async () => {
  await assert.rejects(loadFleet('/nonexistent/fleet.yaml'), (e: unknown) => e instanceof FleetError && /no such file/.test(e.message));
});
