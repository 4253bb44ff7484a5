/**
 * The RFC 2136 provider against a real BIND (Debian's named) on 127.0.0.1: a zone that takes
 * dynamic updates signed with one TSIG key (test/support/bind.ts).
 */
import { randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import { Rfc2136Provider } from '../../src/dns/rfc2136.ts';
import { bindSkip, freePort, startBind, type Bind } from '../support/bind.ts';
import { providerContract, type ContractTarget } from './provider.contract.ts';

const ZONE = 'lab.example';

describe('RFC 2136 with TSIG, against BIND', { skip: bindSkip }, () => {
  let bind: Bind | undefined;
  let target: ContractTarget;

  before(async () => {
    bind = await startBind(ZONE);
    const config = bind.config;
    target = {
      provider: new Rfc2136Provider(config),
      zone: ZONE,
      wrongCredentials: new Rfc2136Provider({ ...config, secret: randomBytes(32).toString('base64') }),
      unreachable: new Rfc2136Provider({ ...config, port: await freePort(), timeoutMs: 2000 }),
    };
  });
  after(async () => { await bind?.stop(); });

  providerContract('rfc2136', () => target);
});
