import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envFormat } from './env-format.ts';
import { jsonFormat } from './json-format.ts';
import { ConfigFormatError } from './format.ts';
import { yamlFormat } from './yaml-format.ts';

test('JSON: nested keys and array items are found past tricky strings; only that span changes', () => {
  const text = '{ "note": "a \\"}\\" brace, [x]", "db": { "nodes": [ {"host": "h1"}, {"host": "h2"} ], "port": 3306 } }';
  assert.equal(jsonFormat.get(text, 'db.nodes.1.host'), 'h2');
  assert.equal(jsonFormat.set(text, 'db.nodes.1.host', 'h9'), text.replace('"h2"', '"h9"'));
  assert.equal(jsonFormat.set(text, 'db.port', 3307), text.replace('3306', '3307'));
  assert.equal(jsonFormat.get(text, 'db.missing'), undefined);
  assert.throws(() => jsonFormat.set(text, 'db', 'x'), (e) => e instanceof ConfigFormatError && e.code === 'not-scalar');
  assert.throws(() => jsonFormat.get('{"a": 1} x', 'a'), (e) => e instanceof ConfigFormatError && e.code === 'parse-failed');
});

test('env: quoted and commented values read back without quotes or comments', () => {
  const text = "A='x y' # note\nB=plain # note\nexport C=\"c\"\n";
  assert.equal(envFormat.get(text, 'A'), 'x y');
  assert.equal(envFormat.get(text, 'B'), 'plain');
  assert.equal(envFormat.get(text, 'C'), 'c');
  assert.equal(envFormat.set(text, 'B', 'new value'), "A='x y' # note\nB=\"new value\" # note\nexport C=\"c\"\n");
  assert.throws(() => envFormat.set(text, 'D', 'x'), (e) => e instanceof ConfigFormatError && e.code === 'key-missing');
});

test('YAML: single-quoted scalars stay single-quoted; a mapping is not a value', () => {
  const text = "redis:\n  default:\n    address: '10.0.0.1:6379' # cache\n";
  assert.equal(yamlFormat.set(text, 'redis.default.address', "10.0.0.2:6379"), text.replace('10.0.0.1', '10.0.0.2'));
  assert.throws(() => yamlFormat.set(text, 'redis.default', 'x'), (e) => e instanceof ConfigFormatError && e.code === 'not-scalar');
  assert.throws(() => yamlFormat.get('a: [', 'a'), (e) => e instanceof ConfigFormatError && e.code === 'parse-failed');
});
