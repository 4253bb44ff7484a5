import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { fleetSchema } from '../fleet/schema.ts';
import { deriveFleet } from './derived-fleet.ts';
import { labPaths } from './paths.ts';
import { planLab } from './plan.ts';
import { parseFleet } from '../fleet/load.ts';

const SOURCE = `
version: 1
name: tiny
ssh: { user: deploy, port: 2222, identity: file:/etc/lifeboat/id, knownHosts: /etc/lifeboat/known_hosts }
machines:
  - { name: primary, address: 192.0.2.1, roles: [db-primary], ssh: { port: 2200 } }
  - { name: backup, address: 192.0.2.2, roles: [db-replica] }
database:
  schema: speed
  user: speed
  password: env:SPEED_DB_PASSWORD
  adminPassword: file:/etc/lifeboat/db-admin
  domainTable: { name: t_app_dns, domainColumn: domain, ipColumn: ip, statusColumn: status, online: 1, offline: 2 }
`;

test('the derived fleet: lab addresses, spares, the lab SSH identity, every secret a file: in the lab', () => {
  const plan = planLab('lbx', parseFleet(SOURCE));
  const paths = labPaths('lbx', '/var/lib/lifeboat/labs');
  const derived = fleetSchema.parse(deriveFleet(parse(SOURCE) as Record<string, unknown>, plan, paths));
  assert.deepEqual(
    derived.machines.map((m) => [m.name, m.address, m.roles.join(',')]),
    [
      ['primary', '198.51.100.10', 'db-primary'],
      ['backup', '198.51.100.11', 'db-replica'],
      ['spare-1', '198.51.100.12', 'spare'],
      ['spare-2', '198.51.100.13', 'spare'],
    ],
  );
  assert.equal(derived.machines[0]?.ssh, undefined, 'a per-machine ssh override of the real fleet leaked into the lab');
  assert.equal(derived.ssh.user, 'root');
  assert.equal(derived.ssh.port, 22);
  assert.equal(derived.ssh.identity, 'file:/var/lib/lifeboat/labs/lbx/shared/ssh/id_ed25519');
  assert.equal(derived.ssh.knownHosts, '/var/lib/lifeboat/labs/lbx/shared/ssh/known_hosts');
  assert.equal(derived.database?.driver.type, 'command', 'lab hosts have no systemd');
  for (const ref of [derived.database?.password, derived.database?.adminPassword, derived.database?.replicationPassword]) {
    assert.match(ref ?? '', /^file:\/var\/lib\/lifeboat\/labs\/lbx\/shared\/secrets\//);
  }
});
