import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseFleet } from '../fleet/load.ts';
import { bindingsFor, domainsOf, edgesExcept, forwardedServices, servicesByPriority, upstreamsAfter } from './topology.ts';

const fleet = parseFleet(readFileSync(new URL('../../examples/go-speed/fleet.yaml', import.meta.url), 'utf8'));
const PRIMARY = '31.128.41.86';
const BACKUP = '185.22.152.47';

test('after the primary is lost every upstream, the singletons included, points at the heir', () => {
  const up = upstreamsAfter(fleet, { failed: 'primary', heir: 'backup' });
  assert.deepEqual(up.go_api, [{ host: BACKUP, port: 8000 }]);
  assert.deepEqual(up.go_upload, [{ host: BACKUP, port: 8003 }]);
  assert.ok(!JSON.stringify(up).includes(PRIMARY));
});

test('after the backup is lost the primary serves alone, and a new machine joins after it', () => {
  const without = upstreamsAfter(fleet, { failed: 'backup' });
  assert.deepEqual(without.go_fly, [{ host: PRIMARY, port: 8002 }]);
  const joined = upstreamsAfter(fleet, { failed: 'backup', extraServers: ['report'] });
  assert.deepEqual(joined.go_fly?.map((s) => s.host), [PRIMARY, '185.22.154.21']);
  // go-upload is a singleton: a new backup does not get its traffic.
  assert.deepEqual(joined.go_upload?.map((s) => s.host), [PRIMARY]);
});

test('the runbook order of services and the ones users reach through the edges', () => {
  assert.deepEqual(servicesByPriority(fleet), { first: ['go-api', 'go-admin', 'go-fly'], later: ['go-upload', 'go-job'] });
  assert.deepEqual(forwardedServices(fleet, ['go-api', 'go-job']), ['go-api']);
});

test('bindings, edges and domains are looked up from the fleet', () => {
  assert.deepEqual(bindingsFor(fleet, ['go-fly']).map((b) => b.file), ['/wwwroot/go/go-fly/config/mysql.json']);
  assert.deepEqual(edgesExcept(fleet, ['edge-1']).map((m) => m.name), ['edge-2']);
  assert.deepEqual(domainsOf(edgesExcept(fleet, ['edge-1'])), ['2yiny.xyz', 'yinyong.xyz']);
});
