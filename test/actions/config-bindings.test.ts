import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Binding } from '../../src/fleet/schema.ts';
import { ActionError, renderChange } from '../../src/actions/action.ts';
import { rewriteBindings } from '../../src/actions/config-bindings.ts';
import { localContext, tempDir } from './support.ts';

const YAML = `# go-api
database:
  default:
    link: "mysql:speed:TopSecret@tcp(198.51.100.20:3306)/speed?loc=Local"
redis:
  default:
    address: 198.51.100.20:6379 # primary
`;
const JSON_TEXT = '{\n  "Server": "198.51.100.20",\n  "Port": "3306",\n  "Password": "TopSecret"\n}\n';

const work = await tempDir('bindings');
after(() => work.cleanup());

test('rewriteBindings: plan masks secrets, apply writes with a backup, verify reads back, twice is harmless, undo restores', async () => {
  const apiFile = join(work.dir, 'go-api/config.yaml');
  const flyFile = join(work.dir, 'go-fly/config/mysql.json');
  await mkdir(join(work.dir, 'go-api'), { recursive: true });
  await mkdir(join(work.dir, 'go-fly/config'), { recursive: true });
  await writeFile(apiFile, YAML);
  await writeFile(flyFile, JSON_TEXT);
  const bindings: Binding[] = [
    { service: 'go-api', file: apiFile, format: 'yaml', keys: { 'database.default.link': 'mysql-dsn-goframe', 'redis.default.address': 'redis-address' } },
    { service: 'go-fly', file: flyFile, format: 'json', keys: { Server: 'mysql-host', Port: 'mysql-port' } },
  ];
  const ctx = localContext();
  const action = rewriteBindings('app', bindings, { mysqlHost: 'localhost', mysqlPort: 3306, redisHost: 'localhost', redisPort: 6379 });

  await assert.rejects(action.verify(ctx), (e) => e instanceof ActionError && e.code === 'verify-failed');
  const plan = (await action.plan(ctx)).map(renderChange).join('\n');
  assert.match(plan, /\+    link: "mysql:speed:\*\*\*@tcp\(localhost:3306\)/);
  assert.match(plan, /\+  "Server": "localhost",/);
  assert.doesNotMatch(plan, /TopSecret/);
  assert.equal(await readFile(apiFile, 'utf8'), YAML, 'plan changes nothing');

  await action.apply(ctx);
  await action.verify(ctx);
  assert.match(await readFile(apiFile, 'utf8'), /tcp\(localhost:3306\)\/speed\?loc=Local"\n/);
  assert.equal(await readFile(flyFile, 'utf8'), JSON_TEXT.replace('"198.51.100.20"', '"localhost"'));
  const backups = (await readdir(join(work.dir, 'go-api'))).filter((name) => name.endsWith('.bak'));
  assert.equal(backups.length, 1);
  assert.equal(await readFile(join(work.dir, 'go-api', backups[0]!), 'utf8'), YAML);

  await action.apply(ctx); // re-applied after an interruption: no change, no second backup
  assert.equal((await readdir(join(work.dir, 'go-api'))).filter((name) => name.endsWith('.bak')).length, 1);
  assert.match((await action.plan(ctx)).map(renderChange).join('\n'), /already points there/);

  await action.undo!(ctx);
  assert.equal(await readFile(apiFile, 'utf8'), YAML);
  assert.equal(await readFile(flyFile, 'utf8'), JSON_TEXT);
});

test('rewriteBindings: a missing file is a precondition failure naming the file', async () => {
  const ctx = localContext();
  const missing = join(work.dir, 'nope.yaml');
  const action = rewriteBindings('app', [{ service: 'x', file: missing, format: 'yaml', keys: { a: 'mysql-host' } }], { mysqlHost: 'h' });
  await assert.rejects(action.apply(ctx), (e) => e instanceof ActionError && e.code === 'precondition' && e.message.includes(missing));
});
