import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActionError } from '../action.ts';
import { accountStatements, renderScript, sqlChanges } from './mariadb-accounts.ts';
import { DEBIAN_MARIADB_PATHS, dropInPath, optionFileValue, renderBaseConfig, renderDropIn } from './mariadb-config.ts';

const spec = { machine: 'spare-1', role: 'replica' as const, serverId: 7, bindAddress: '198.51.100.20,127.0.0.1', port: 3306, paths: DEBIAN_MARIADB_PATHS };

test('the drop-in sorts after Debian 50-server.cnf and before prepare 60-lifeboat-replication.cnf', () => {
  const name = dropInPath(DEBIAN_MARIADB_PATHS).split('/').pop()!;
  assert.deepEqual([name, '50-server.cnf', '60-lifeboat-replication.cnf'].sort(), ['50-server.cnf', name, '60-lifeboat-replication.cnf']);
});

test('renderDropIn holds what replication needs; read-only follows the role', () => {
  const text = renderDropIn(spec);
  for (const line of ['[mariadbd]', 'server-id = 7', 'log-bin = mysql-bin', 'log-slave-updates = ON', 'binlog-format = ROW', 'gtid-strict-mode = ON', 'read-only = ON', 'bind-address = 198.51.100.20,127.0.0.1']) {
    assert.ok(text.split('\n').includes(line), line);
  }
  assert.ok(renderDropIn({ ...spec, role: 'primary' }).includes('read-only = OFF'));
  assert.throws(() => renderDropIn({ ...spec, serverId: 0 }), (e) => e instanceof ActionError && e.code === 'precondition');
  assert.throws(() => renderDropIn({ ...spec, settings: { 'x\ny': 1 } }), ActionError);
  assert.match(renderBaseConfig(DEBIAN_MARIADB_PATHS), /!includedir \/etc\/mysql\/mariadb\.conf\.d\//);
});

test('option-file values are quoted and escaped; line breaks are refused', () => {
  assert.equal(optionFileValue('a"b\\c'), '"a\\"b\\\\c"');
  assert.throws(() => optionFileValue('a\nb'), ActionError);
});

test('account SQL: parameterised in the plan with *** for passwords, escaped in the script', async () => {
  const db = {
    engine: 'mariadb' as const, schema: 'speed', port: 3306, user: 'speed', password: 'env:APP', adminUser: 'root', adminPassword: 'env:ADMIN',
    driver: { type: 'systemd' as const }, replicationUser: 'repl', replicationPassword: 'env:REPL', logTables: [],
    domainTable: { name: 't', domainColumn: 'd', ipColumn: 'i', statusColumn: 's', online: 1, offline: 2 },
  };
  const statements = accountStatements(db);
  const plan = JSON.stringify(sqlChanges('m', statements));
  assert.ok(!plan.includes('env:APP') && plan.includes('***'));
  const secrets: Record<string, string> = { 'env:APP': "it's", 'env:ADMIN': 'a\\b', 'env:REPL': 'r' };
  const script = await renderScript(statements, async (ref) => secrets[ref]!);
  assert.match(script, /^SET SESSION sql_log_bin = 0;/);
  assert.ok(script.includes("CREATE USER IF NOT EXISTS 'speed'@'%' IDENTIFIED BY 'it\\'s';"));
  assert.ok(script.includes("ALTER USER 'root'@'%' IDENTIFIED BY 'a\\\\b';"));
  assert.ok(script.includes('GRANT ALL PRIVILEGES ON `speed`.* TO \'speed\'@\'%\';'));
  assert.ok(!accountStatements({ ...db, replicationPassword: undefined }).some((s) => s.params.includes('repl')));
});
