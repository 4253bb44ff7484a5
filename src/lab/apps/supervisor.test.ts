import { test } from 'node:test';
import assert from 'node:assert/strict';
import { supervisorProgram } from './supervisor.ts';

test('supervisor runs a stand-in from its bundle under the repo mount, where node_modules resolve', () => {
  assert.deepEqual(supervisorProgram('go-job'), {
    name: 'go-job', command: '/usr/bin/node /lifeboat/.lifeboat-build/standins.mjs go-job', directory: '/lifeboat',
  });
  assert.equal(supervisorProgram('go-api', '/repo').command, '/usr/bin/node /repo/.lifeboat-build/standins.mjs go-api');
});
