import { test } from 'node:test';
import assert from 'node:assert/strict';
import { supervisorProgram, supervisorSection } from './supervisor.ts';

test('supervisor runs a stand-in from its bundle under the repo mount, where node_modules resolve', () => {
  assert.deepEqual(supervisorProgram('go-job'), {
    name: 'go-job', command: '/usr/bin/node /lifeboat/.lifeboat-build/standins.mjs go-job', directory: '/lifeboat',
  });
  const section = supervisorSection('go-api', '/repo');
  assert.match(section, /^\[program:go-api\]\ncommand=\/usr\/bin\/node \/repo\/.lifeboat-build\/standins.mjs go-api\ndirectory=\/repo\n/);
  assert.match(section, /stopsignal=TERM/);
});
