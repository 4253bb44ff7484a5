import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LocalRemote } from './local.ts';
import { wrapCommand } from './ssh-command.ts';
import { DEFAULT_RUN_TIMEOUT_MS } from './bounds.ts';

test('wrapCommand builds exec [env] timeout sh -c with every part quoted; a command without a time-out gets the default one', () => {
  assert.equal(wrapCommand('echo hi', {}), `exec timeout -s KILL ${(DEFAULT_RUN_TIMEOUT_MS / 1000).toFixed(3)} sh -c 'echo hi'`);
  assert.equal(
    wrapCommand("echo \"$A\" 'x'", { env: { A: "it's", B: 'a b' }, timeoutMs: 1500 }),
    `exec env 'A=it'\\''s' 'B=a b' timeout -s KILL 1.500 sh -c 'echo "$A" '\\''x'\\'''`,
  );
  // `timeout 0` would disable the limit, so zero becomes one millisecond.
  assert.match(wrapCommand('true', { timeoutMs: 0 }), /timeout -s KILL 0\.001 /);
});

test('wrapCommand refuses names that are not environment variables', () => {
  assert.throws(() => wrapCommand('true', { env: { 'A;rm -rf /': 'x' } }), TypeError);
  assert.throws(() => wrapCommand('true', { env: { '1A': 'x' } }), TypeError);
});

test('a wrapped command means the same thing to a real shell', async () => {
  // What sshd does with it: hand the line to the login shell as `-c`.
  const nasty = `printf '%s|' "$X" 'single '"'"' quote' "\\$HOME" '$(id)' \`echo tick\`; echo`;
  const local = new LocalRemote();
  const direct = await local.run(nasty, { env: { X: "v a'l" } });
  const wrapped = await local.run(wrapCommand(nasty, { env: { X: "v a'l" }, timeoutMs: 5000 }));
  assert.equal(wrapped.code, 0);
  assert.equal(wrapped.stdout, direct.stdout);
  assert.equal(direct.stdout, `v a'l|single ' quote|$HOME|$(id)|tick|\n`);
});
