import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { fakeFileAction } from './fakes.ts';
import { parseAnswer, ttyConfirm } from './prompt.ts';
import { step } from './step.ts';

test('only a clear yes or all goes ahead', () => {
  assert.equal(parseAnswer(' Y '), 'yes');
  assert.equal(parseAnswer('all'), 'all');
  for (const text of ['', 'n', 'maybe', 'yess']) assert.equal(parseAnswer(text), 'no');
});

test('piped answers are read one per question, and end of input answers no', async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (d: Buffer) => (shown += d));
  input.end('y\na\n');
  const prompt = ttyConfirm(input, output);
  const s = step('Promote the replica on backup', fakeFileAction('/tmp/none', 'promoted', { machine: 'backup' }));
  const changes = [{ kind: 'command' as const, machine: 'backup', command: 'mariadb -e "STOP SLAVE"' }];
  assert.equal(await prompt.confirm(s, changes), 'yes');
  assert.equal(await prompt.confirm(s, changes), 'all');
  assert.equal(await prompt.confirm(s, changes), 'no');
  prompt.close();
  assert.match(shown, /Next: Promote the replica on backup {2}\(backup\)\n {4}\[backup\] \$ mariadb -e "STOP SLAVE"\nApply this step\?/);
});
