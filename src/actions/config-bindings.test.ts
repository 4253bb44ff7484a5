import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Binding } from '../fleet/schema.ts';
import { bindingMatches, readBinding, renderBinding } from './config-bindings.ts';
import { unifiedDiff } from './text-diff.ts';
import { redactConfigText } from '../util/redact.ts';
import { parseGoframeDsn, withGoframeAddress } from './goframe-dsn.ts';
import { ConfigFormatError } from './config-formats/index.ts';

// go-api / go-admin: GoFrame config.yaml as the seed's services ship it, comments included.
const GOFRAME_YAML = `# HTTP server
server:
  address: ":8000"   # listen on every interface
  openapiPath: /api.json

# Database: GoFrame link syntax
database:
  logger:
    level: all
  default:
    link: "mysql:speed:p@ss:w/rd@tcp(31.128.41.86:3306)/speed?loc=Local&parseTime=true"
    debug: false # keep quiet in production

redis:
  default:
    address: 31.128.41.86:6379
    db: 1
`;

// go-fly: config/mysql.json with a tab indent and the port as a string.
const GOFLY_JSON = `{
\t"Server": "31.128.41.86",
\t"Port": "3306",
\t"Database": "speed",
\t"Username": "speed",
\t"Password": "s3cret,\\"quoted\\""
}
`;

const goApi: Binding = {
  service: 'go-api',
  file: '/wwwroot/go/go-api/config.yaml',
  format: 'yaml',
  keys: { 'database.default.link': 'mysql-dsn-goframe', 'redis.default.address': 'redis-address' },
};
const goFly: Binding = {
  service: 'go-fly',
  file: '/wwwroot/go/go-fly/config/mysql.json',
  format: 'json',
  keys: { Server: 'mysql-host', Port: 'mysql-port' },
};
const local = { mysqlHost: '127.0.0.1', mysqlPort: 3306, redisHost: '127.0.0.1', redisPort: 6379 };

test('GoFrame YAML: only host:port change; comments, order, quoting and the password stay', () => {
  const after = renderBinding(GOFRAME_YAML, goApi, local);
  const expected = GOFRAME_YAML.replace('tcp(31.128.41.86:3306)', 'tcp(127.0.0.1:3306)').replace(
    'address: 31.128.41.86:6379',
    'address: 127.0.0.1:6379',
  );
  assert.equal(after, expected);
  assert.deepEqual(readBinding(after, goApi), { target: local, consistent: true });
  assert.ok(bindingMatches(after, goApi, local));
  assert.ok(!bindingMatches(GOFRAME_YAML, goApi, local));
});

test('go-fly JSON: tab indent and key order kept, the port stays a string', () => {
  const after = renderBinding(GOFLY_JSON, goFly, { mysqlHost: '203.0.113.7', mysqlPort: 3307 });
  assert.equal(after, GOFLY_JSON.replace('"31.128.41.86"', '"203.0.113.7"').replace('"3306"', '"3307"'));
  assert.equal((JSON.parse(after) as { Port: unknown }).Port, '3307');
  const numeric = renderBinding('{"Server":"a","Port":3306}', goFly, { mysqlPort: 3307 });
  assert.equal(numeric, '{"Server":"a","Port":3307}');
});

test('rendering twice is the same as once (idempotent) and a target field left out is kept', () => {
  const once = renderBinding(GOFRAME_YAML, goApi, local);
  assert.equal(renderBinding(once, goApi, local), once);
  const redisOnly = renderBinding(GOFRAME_YAML, goApi, { redisHost: '198.51.100.9' });
  assert.match(redisOnly, /tcp\(31\.128\.41\.86:3306\)/);
  assert.match(redisOnly, /address: 198\.51\.100\.9:6379/);
});

test('.env files keep quotes, export and comments', () => {
  const env = 'export DB_HOST="10.0.0.1" # primary\nDB_PORT=3306\nREDIS=10.0.0.1:6379\n';
  const binding: Binding = { service: 'x', file: '/x/.env', format: 'env', keys: { DB_HOST: 'mysql-host', DB_PORT: 'mysql-port', REDIS: 'redis-address' } };
  assert.equal(
    renderBinding(env, binding, local),
    'export DB_HOST="127.0.0.1" # primary\nDB_PORT=3306\nREDIS=127.0.0.1:6379\n',
  );
});

test('a missing key or a value that is not a GoFrame link is refused, not guessed', () => {
  const missing: Binding = { ...goApi, keys: { 'database.other.link': 'mysql-dsn-goframe' } };
  assert.throws(() => renderBinding(GOFRAME_YAML, missing, local), (e) => e instanceof ConfigFormatError && e.code === 'key-missing');
  const notDsn = GOFRAME_YAML.replace(/link: ".*"/, 'link: "sqlite:/tmp/x.db"');
  assert.throws(() => renderBinding(notDsn, goApi, local), /GoFrame link/);
  assert.throws(() => renderBinding('{"Server": ', goFly, local), (e) => e instanceof ConfigFormatError && e.code === 'parse-failed');
});

test('GoFrame DSN parsing survives passwords holding @ : / ( and the optional type prefix', () => {
  const link = 'mysql:u:a@b:c/d(e@tcp(10.1.2.3:3307)/db?x=1';
  const dsn = parseGoframeDsn(link);
  assert.equal(dsn?.host, '10.1.2.3');
  assert.equal(dsn?.port, 3307);
  assert.equal(link.slice(dsn.addressStart, dsn.addressEnd), '10.1.2.3:3307');
  assert.equal(withGoframeAddress('u:p@tcp(h:1)/db', 'n', 2), 'u:p@tcp(n:2)/db');
  assert.equal(parseGoframeDsn('mysql:u:p@unix(/run/mysqld.sock)/db'), undefined);
});

test('plan diffs are unified diffs that never show a password', () => {
  const after = renderBinding(GOFRAME_YAML, goApi, local);
  const diff = unifiedDiff(GOFRAME_YAML, after, { path: goApi.file, mapLine: redactConfigText });
  assert.match(diff, /^--- a\/wwwroot\/go\/go-api\/config\.yaml\n\+\+\+ b/);
  assert.match(diff, /^-    link: "mysql:speed:\*\*\*@tcp\(31\.128\.41\.86:3306\)/m);
  assert.match(diff, /^\+    link: "mysql:speed:\*\*\*@tcp\(127\.0\.0\.1:3306\)/m);
  assert.doesNotMatch(diff, /p@ss/);
  const jsonDiff = unifiedDiff(GOFLY_JSON, renderBinding(GOFLY_JSON, goFly, { mysqlPort: 3307 }), { mapLine: redactConfigText });
  assert.match(jsonDiff, /"Password": "\*\*\*"/);
  assert.doesNotMatch(jsonDiff, /s3cret/);
  assert.equal(unifiedDiff('a\n', 'a\n'), '');
});

test('unified diff hunks carry correct line numbers', () => {
  const before = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
  const after = before.replace('line 2\n', 'line two\n').replace('line 18\n', '');
  assert.equal(
    unifiedDiff(before, after, { context: 1 }),
    ['--- a', '+++ b', '@@ -1,3 +1,3 @@', ' line 1', '-line 2', '+line two', ' line 3', '@@ -17,3 +17,2 @@', ' line 17', '-line 18', ' line 19'].join('\n'),
  );
});

test('YAML sequences are addressed by index, and a plain value that would change meaning gets quotes', () => {
  const listed = 'database:\n  default:\n    - link: mysql:u:p@tcp(10.0.0.1:3306)/speed # first node\n      role: master\n';
  const binding: Binding = { service: 'x', file: '/x.yaml', format: 'yaml', keys: { 'database.default.0.link': 'mysql-dsn-goframe' } };
  assert.equal(
    renderBinding(listed, binding, { mysqlHost: '10.0.0.2', mysqlPort: 3307 }),
    listed.replace('10.0.0.1:3306', '10.0.0.2:3307'),
  );
  const hostKey: Binding = { service: 'x', file: '/x.yaml', format: 'yaml', keys: { 'db.host': 'mysql-host' } };
  // `yes` written plain would read back as a boolean in YAML 1.1 tools; `1e3` as a number.
  assert.equal(renderBinding('db:\n  host: a # keep\n', hostKey, { mysqlHost: '1e3' }), 'db:\n  host: "1e3" # keep\n');
});

