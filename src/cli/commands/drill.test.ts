/**
 * `lifeboat drill` refuses bad flags before it builds anything: these runs end in well under
 * a second because no lab is brought up (a lab would need root and take seconds).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';

const cli = new URL('../../../bin/lifeboat.mjs', import.meta.url).pathname;
const drill = (...args: string[]) => new Promise<{ code: number; stderr: string }>((resolve) => {
  execFile(process.execPath, [cli, 'drill', ...args], { timeout: 30_000 }, (error, _stdout, stderr) => {
    resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr });
  });
});

test('drill --backup-age: whole seconds, and only for the drills that restore a backup', async () => {
  const [zero, text, edge, unknown] = await Promise.all([
    drill('both-app-down', '--backup-age', '0'),
    drill('total-loss', '--backup-age', 'soon'),
    drill('edge-down', '--backup-age', '10'),
    drill('both-app-dwn', '--backup-age', '10'),
  ]);
  assert.equal(zero.code, 2, zero.stderr);
  assert.match(zero.stderr, /--backup-age: expected whole seconds in \[1, 600\]/);
  assert.equal(text.code, 2, text.stderr);
  assert.match(text.stderr, /--backup-age: expected whole seconds/);
  assert.equal(edge.code, 2, edge.stderr);
  assert.match(edge.stderr, /--backup-age belongs to the drills that restore a backup \(both-app-down, total-loss\), not drill edge-down/);
  assert.equal(unknown.code, 2, unknown.stderr);
  assert.match(unknown.stderr, /unknown drill `both-app-dwn` — did you mean `both-app-down`\?/);
});

test('drill --new-backup: only primary-down, and not with --auto', async () => {
  const [edge, auto] = await Promise.all([drill('edge-down', '--new-backup'), drill('primary-down', '--new-backup', '--auto')]);
  assert.equal(edge.code, 2, edge.stderr);
  assert.match(edge.stderr, /--new-backup belongs to drill primary-down, not drill edge-down/);
  assert.equal(auto.code, 2, auto.stderr);
  assert.match(auto.stderr, /--new-backup with --auto/);
});
