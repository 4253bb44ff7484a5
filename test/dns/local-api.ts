/** A local HTTP server speaking a provider's documented API subset, for the contract suite. */
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import { providerContract, type ContractTarget } from './provider.contract.ts';

/** Starts `app` on loopback for the suite; `targets` builds the providers from its base URL. */
export function contractOnLocalApi(name: string, app: () => Hono, targets: (base: string) => ContractTarget): void {
  let server: ServerType;
  let target: ContractTarget;
  before(async () => {
    server = await new Promise<ServerType>((resolve) => { const s = serve({ fetch: app().fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s)); });
    target = targets(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(() => { server.close(); });
  providerContract(name, () => target);
}
