import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { endpointsSchema } from '../fleet/schema.ts';
import { endpointTarget, parseServersState, renderEndpointsConfig, runtimeCommand } from './endpoints.ts';
import { fleetSchema } from '../fleet/schema.ts';

// `show servers state` as HAProxy 2.6 (Debian 12) printed it here.
const STATE = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
2 mariadb 1 live 198.51.100.12 2 0 1 1 0 1 0 2 0 0 0 0 - 3306 - 0 0 - - 0
3 redis 1 live 198.51.100.12 2 0 1 1 0 1 0 2 0 0 0 0 - 6379 - 0 0 - - 0

`;

test('parseServersState reads where each endpoint forwards, by column name', () => {
  assert.deepEqual(Object.fromEntries(parseServersState(STATE)), {
    mariadb: { host: '198.51.100.12', port: 3306 },
    redis: { host: '198.51.100.12', port: 6379 },
  });
  assert.equal(parseServersState('No such backend.\n').size, 0, 'an error answer reads as nothing, never as an address');
  assert.equal(parseServersState('').size, 0);
});

test('renderEndpointsConfig: loopback only, no health checks, Redis only when the fleet has it', () => {
  const e = endpointsSchema.parse({});
  const both = renderEndpointsConfig('backup', e, { database: { host: '198.51.100.13', port: 3306 }, redis: { host: '198.51.100.13', port: 6379 } });
  assert.match(both, /listen mariadb\n    bind 127\.0\.0\.1:13306\n    server live 198\.51\.100\.13:3306\n/);
  assert.match(both, /listen redis\n    bind 127\.0\.0\.1:16379\n    server live 198\.51\.100\.13:6379\n/);
  assert.match(both, /stats socket \/run\/lifeboat-endpoints\.sock mode 600 level admin/);
  assert.doesNotMatch(both, /\bcheck\b/, 'HAProxy never fails over by itself');
  const dbOnly = renderEndpointsConfig('backup', e, { database: { host: '198.51.100.13', port: 3306 } });
  assert.doesNotMatch(dbOnly, /redis/);
});

test('runtimeCommand quotes its socket and commands for the shell', () => {
  const out = execFileSync('sh', ['-c', `${runtimeCommand("/tmp/it's.sock", 'show servers state; help')} 2>&1 || true`]).toString();
  assert.match(out, /cannot connect to \/tmp\/it's\.sock/);
});

test('endpointTarget: what the bindings hold once they use the endpoints', () => {
  const base = {
    version: 1, name: 'f', machines: [{ name: 'a', address: '198.51.100.2', roles: ['app', 'db-primary'] }],
    database: { schema: 's', user: 'u', password: 'env:P', adminPassword: 'env:A', domainTable: { name: 't', domainColumn: 'd', ipColumn: 'i', statusColumn: 's', online: 1, offline: 2 } },
    endpoints: { databasePort: 14000 },
  };
  assert.deepEqual(endpointTarget(fleetSchema.parse(base)), { mysqlHost: '127.0.0.1', mysqlPort: 14000 });
  assert.deepEqual(endpointTarget(fleetSchema.parse({ ...base, redis: {} })), { mysqlHost: '127.0.0.1', mysqlPort: 14000, redisHost: '127.0.0.1', redisPort: 16379 });
});

test('TLS: a server line checks the certificate against the CA and the shared name; a database machine ends TLS in front of its MariaDB; srv_use_ssl reads back', () => {
  const e = endpointsSchema.parse({});
  const live = { database: { host: '198.51.100.12', port: 3307, tls: true }, redis: { host: '198.51.100.12', port: 6380, tls: true } };
  const text = renderEndpointsConfig('backup', e, live, {
    caFile: '/etc/lifeboat/tls/ca.pem',
    gateway: { bind: { host: '198.51.100.13', port: 3307 }, to: { host: '198.51.100.13', port: 3306 }, certificate: '/etc/lifeboat/tls/haproxy.pem' },
  });
  assert.match(text, /server live 198\.51\.100\.12:3307 ssl verify required ca-file \/etc\/lifeboat\/tls\/ca\.pem verifyhost lifeboat-mariadb\n/);
  assert.match(text, /server live 198\.51\.100\.12:6380 ssl verify required ca-file \/etc\/lifeboat\/tls\/ca\.pem verifyhost lifeboat-redis\n/);
  assert.match(text, /listen mariadb-tls\n    bind 198\.51\.100\.13:3307 ssl crt \/etc\/lifeboat\/tls\/haproxy\.pem\n    server local 198\.51\.100\.13:3306\n/);
  assert.throws(() => renderEndpointsConfig('backup', e, live), /the fleet's tls is off/, 'a TLS target without the CA is refused, never forwarded in clear');
  const tlsState = STATE.replace('- 3306 - 0 0', '- 3307 - 1 0');
  assert.deepEqual(parseServersState(tlsState).get('mariadb'), { host: '198.51.100.12', port: 3307, tls: true });
  assert.deepEqual(parseServersState(tlsState).get('redis'), { host: '198.51.100.12', port: 6379 });
});
