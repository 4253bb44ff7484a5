import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEBIAN_REDIS_PATHS, renderRedisDropIn, withIncludeLast } from './redis-config.ts';
import { redactConfigText } from '../../util/redact.ts';

test('the drop-in quotes the password, and masking hides it', () => {
  const text = renderRedisDropIn({ machine: 'm', bind: ['198.51.100.20', '127.0.0.1'], port: 6379, password: 'a "b" \\c' });
  assert.ok(text.includes('requirepass "a \\"b\\" \\\\c"'));
  assert.ok(text.includes('bind 198.51.100.20 127.0.0.1'));
  assert.ok(!redactConfigText(text).includes('b\\"'), 'nothing of an escaped quoted password shows');
  assert.match(redactConfigText(text), /^requirepass "\*\*\*"$/m);
  assert.match(redactConfigText(text), /^masterauth "\*\*\*"$/m);
  assert.ok(!text.includes('protected-mode no'));
  assert.match(renderRedisDropIn({ machine: 'm', bind: ['198.51.100.20'], port: 6379 }), /^protected-mode no$/m);
});

test('withIncludeLast appends the include, moves an earlier one, and leaves a good file alone', () => {
  const include = `include ${DEBIAN_REDIS_PATHS.dropIn}`;
  const debian = 'bind 127.0.0.1 -::1\nport 6379\n';
  const once = withIncludeLast(debian, DEBIAN_REDIS_PATHS);
  assert.ok(once.trimEnd().endsWith(include));
  assert.equal(withIncludeLast(once, DEBIAN_REDIS_PATHS), once);
  const early = `${include}\nport 6380\n`;
  const moved = withIncludeLast(early, DEBIAN_REDIS_PATHS);
  assert.equal(moved.split('\n').filter((l) => l === include).length, 1);
  assert.ok(moved.trimEnd().endsWith(include));
  assert.ok(withIncludeLast(`${once}# trailing comment\n`, DEBIAN_REDIS_PATHS).endsWith('# trailing comment\n'));
});
