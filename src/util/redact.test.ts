import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactChange } from '../actions/redact-change.ts';
import { redactConfigText, redactText, redactValue, secretParameterSlots } from './redact.ts';

test('connection strings lose their password, not their address', () => {
  assert.equal(redactText('link: "mysql:speed:s3cr:et@tcp(127.0.0.1:3306)/speed"'), 'link: "mysql:speed:***@tcp(127.0.0.1:3306)/speed"');
  assert.equal(redactText('speed:p@ss:w0rd@tcp(db:3306)/speed'), 'speed:***@tcp(db:3306)/speed');
  assert.equal(redactText('redis://default:hunter2@10.0.0.1:6379/0'), 'redis://default:***@10.0.0.1:6379/0');
});

test('values under secret-looking keys are masked in text, objects and commands', () => {
  assert.equal(redactText('-  "Password": "old-pw",'), '-  "Password": "***",');
  assert.equal(redactText('DB_PASS=abc MYSQL_PWD=xyz mysqldump speed'), 'DB_PASS=*** MYSQL_PWD=*** mysqldump speed');
  assert.equal(redactText("CREATE USER 'repl'@'%' IDENTIFIED BY 'pw1'"), "CREATE USER 'repl'@'%' IDENTIFIED BY '***'");
  assert.equal(redactText('mysql -uroot -ppw2 -h 127.0.0.1 speed'), 'mysql -uroot -p*** -h 127.0.0.1 speed');
  assert.equal(redactText('mkdir -p /wwwroot/go && mysql -e "select 1"'), 'mkdir -p /wwwroot/go && mysql -e "select 1"');
  assert.deepEqual(redactValue({ failed: 'primary', apiToken: 'tok', nested: [{ password: 'x', host: 'h' }] }),
    { failed: 'primary', apiToken: '***', nested: [{ password: '***', host: 'h' }] });
});

test('SQL parameters bound to secret columns are masked, others kept', () => {
  assert.deepEqual([...secretParameterSlots('UPDATE users SET name = ?, password = ? WHERE id = ?')], [1]);
  assert.deepEqual([...secretParameterSlots('INSERT INTO creds (host, user, passwd) VALUES (?, ?, ?)')], [2]);
  const change = redactChange({
    kind: 'sql', machine: 'backup', sql: "CHANGE MASTER TO MASTER_HOST = ?, MASTER_PASSWORD = ? -- now", params: ['10.0.0.1', 'pw3'],
  });
  assert.deepEqual(change, { kind: 'sql', machine: 'backup', sql: 'CHANGE MASTER TO MASTER_HOST = ?, MASTER_PASSWORD = ? -- now', params: ['10.0.0.1', '***'] });
  const dns = redactChange({ kind: 'sql', machine: 'backup', sql: 'UPDATE speed.t_app_dns SET status = 2 WHERE ip = ?', params: ['31.128.41.86'] });
  assert.deepEqual(dns.kind === 'sql' && dns.params, ['31.128.41.86']);
});

test('every secret form the plans, logs, --json output and the journal meet is masked by the one masker', () => {
  // .env files, shell and compose environments.
  assert.equal(redactConfigText('DB_PW=hunter2\nDB_HOST=10.0.0.1\n'), 'DB_PW=***\nDB_HOST=10.0.0.1\n');
  assert.equal(redactText('export REDIS_PW=x1 && run'), 'export REDIS_PW=*** && run');
  assert.equal(redactConfigText('DB_PASSWORD=two words here'), 'DB_PASSWORD=***', 'a config value to its line end');
  assert.equal(redactText('upward=1 pwd_hint=ok'), 'upward=1 pwd_hint=***', '"pw" only as a word of its own; pwd anywhere');
  // URLs with and without a user name.
  assert.equal(redactText('redis://:hunter2@10.0.0.1:6379/0'), 'redis://:***@10.0.0.1:6379/0');
  assert.equal(redactText('amqp://app:s3c@mq:5672'), 'amqp://app:***@mq:5672');
  // Redis: its config file and CONFIG SET, quoted passwords with escaped quotes included.
  assert.equal(redactConfigText('requirepass s3cret\nmasterauth "a \\"b\\" c"\nbind 1.2.3.4\n'), 'requirepass ***\nmasterauth "***"\nbind 1.2.3.4\n');
  assert.equal(redactText('redis-cli CONFIG SET masterauth s3cret'), 'redis-cli CONFIG SET masterauth ***');
  assert.equal(redactText('redis-cli -h 10.0.0.2 -a s3cret --no-auth-warning ping'), 'redis-cli -h 10.0.0.2 -a *** --no-auth-warning ping');
  // JSON and YAML config lines, in a diff too, and an escaped quote inside a JSON password.
  assert.equal(redactConfigText('-  "Password": "a\\"b",\n+  "Password": "c",'), '-  "Password": "***",\n+  "Password": "***",');
  assert.equal(redactText('{"password":"a\\"b","host":"h"}'), '{"password":"***","host":"h"}');
  assert.equal(redactConfigText('db:\n  password:\n    file: /x\n'), 'db:\n  password:\n    file: /x\n', 'a key with nothing after it is no secret value');
  // DSNs and clients.
  assert.equal(redactText('link: root:pw@tcp(h:1)/db'), 'link: root:***@tcp(h:1)/db');
  assert.equal(redactText("CHANGE MASTER TO MASTER_PASSWORD='pw9', MASTER_HOST='h'"), "CHANGE MASTER TO MASTER_PASSWORD='***', MASTER_HOST='h'");
  // Left alone.
  assert.equal(redactText('address: 10.0.0.1:6379'), 'address: 10.0.0.1:6379');
  assert.equal(redactConfigText('bind 198.51.100.12 127.0.0.1\nport 6379\n'), 'bind 198.51.100.12 127.0.0.1\nport 6379\n');
});

test('renderChange, which every plan, prompt and restore listing prints through, shows no secret', async () => {
  const { renderChange } = await import('../actions/action.ts');
  const shown = [
    renderChange({ kind: 'file', machine: 'm', path: '/srv/app/.env', diff: '-DB_PW=old1\n+DB_PW=new1\n' }),
    renderChange({ kind: 'command', machine: 'm', command: 'redis-cli -a s3cret REPLICAOF NO ONE' }),
    renderChange({ kind: 'sql', machine: 'm', sql: 'CHANGE MASTER TO MASTER_HOST = ?, MASTER_PASSWORD = ?', params: ['h', 'pw3'] }),
    renderChange({ kind: 'note', text: 'reach it at redis://:pw4@h:6379' }),
  ].join('\n');
  for (const secret of ['old1', 'new1', 's3cret', 'pw3', 'pw4']) assert.ok(!shown.includes(secret), `${secret} shown: ${shown}`);
});
