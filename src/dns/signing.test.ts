/**
 * The signers against each vendor's own published worked example, every input as the
 * documentation fixes it. These prove the signature as the vendors document it; no request
 * reaches either cloud from here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acs3Headers, acsEncode, acsQuery, tc3Authorization } from './signing.ts';

test("TC3-HMAC-SHA256: Tencent Cloud's worked example (CVM DescribeInstances, 1551113065)", () => {
  // "Signature v3", the documented example: the payload is sent with its \u escapes as written.
  const payload = '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}';
  assert.equal(
    tc3Authorization({ secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE', secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE', service: 'cvm', host: 'cvm.tencentcloudapi.com', payload, timestamp: 1551113065 }),
    'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168',
  );
});

test("ACS3-HMAC-SHA256: Alibaba Cloud's worked example (ECS RunInstances, 2023-10-26T10:22:32Z)", () => {
  const headers = acs3Headers({
    accessKeyId: 'YourAccessKeyId', accessKeySecret: 'YourAccessKeySecret', method: 'POST', host: 'ecs.cn-shanghai.aliyuncs.com',
    action: 'RunInstances', version: '2014-05-26', body: '', date: '2023-10-26T10:22:32Z', nonce: '3156853299f313e23d1673dc12e1703d',
    query: { RegionId: 'cn-shanghai', ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd' },
  });
  assert.equal(headers['x-acs-content-sha256'], 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(
    headers.authorization,
    'ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0',
  );
});

test('ACS3 encodes as RFC 3986 says: space %20, * %2A, ~ kept; keys sorted', () => {
  assert.equal(acsEncode("a b*c~d!'()"), 'a%20b%2Ac~d%21%27%28%29');
  assert.equal(acsQuery({ b: '2', a: 'x y', 'Tag.1.Key': 'k' }), 'Tag.1.Key=k&a=x%20y&b=2');
});
