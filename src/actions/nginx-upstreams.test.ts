import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderUpstreams, UpstreamError } from './nginx-upstreams.ts';

test('upstreams render sorted, one block each, with fast failure detection and backup servers', () => {
  assert.equal(
    renderUpstreams({
      go_fly: [{ host: '198.51.100.21', port: 8002 }],
      go_api: [{ host: '198.51.100.20', port: 8000 }, { host: '198.51.100.21', port: 8000, backup: true }],
    }),
    [
      '# Managed by lifeboat: rewritten on every switch-over. Edit the fleet file, not this.',
      '',
      'upstream go_api {',
      '    server 198.51.100.20:8000 max_fails=1 fail_timeout=5s;',
      '    server 198.51.100.21:8000 max_fails=1 fail_timeout=5s backup;',
      '}',
      '',
      'upstream go_fly {',
      '    server 198.51.100.21:8002 max_fails=1 fail_timeout=5s;',
      '}',
      '',
    ].join('\n'),
  );
});

test('names and hosts that could inject nginx syntax are refused, as is an upstream with only backups', () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return error instanceof UpstreamError ? error.code : 'other';
    }
    return 'none';
  };
  assert.equal(code(() => renderUpstreams({ 'a; include /etc/passwd': [{ host: 'h', port: 1 }] })), 'bad-name');
  assert.equal(code(() => renderUpstreams({ a: [{ host: '1.2.3.4; }', port: 1 }] })), 'bad-server');
  assert.equal(code(() => renderUpstreams({ a: [{ host: '1.2.3.4', port: 70000 }] })), 'bad-server');
  assert.equal(code(() => renderUpstreams({ a: [{ host: '1.2.3.4', port: 80, backup: true }] })), 'empty');
});
