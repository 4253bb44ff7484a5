import { test } from 'node:test';
import assert from 'node:assert/strict';
import { supervisorProgram, supervisorSection } from './supervisor.ts';

test('supervisor runs a stand-in from the repo mount, where tsx resolves', () => {
  assert.deepEqual(supervisorProgram('go-job'), {
    name: 'go-job', command: '/usr/bin/node --import tsx /lifeboat/src/lab/apps/main.ts go-job', directory: '/lifeboat',
  });
  const section = supervisorSection('go-api', '/repo');
  assert.match(section, /^\[program:go-api\]\ncommand=\/usr\/bin\/node --import tsx \/repo\/src\/lab\/apps\/main.ts go-api\ndirectory=\/repo\n/);
  assert.match(section, /stopsignal=TERM/);
});
