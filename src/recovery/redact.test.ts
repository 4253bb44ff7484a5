import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactChange, redactText, redactValue, secretParameterSlots } from './redact.ts';

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
