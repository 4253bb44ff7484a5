/**
 * The probe bench's targets: `count` HTTP servers on loopback in a process of their own (so
 * their CPU is not counted as the scheduler's). Prints one JSON line with their ports, then
 * serves until its parent disconnects.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const count = Number(process.argv[2] ?? 50);
const servers: Server[] = [];
for (let i = 0; i < count; i++) {
  const server = createServer((req, res) => res.writeHead(req.url === '/health' ? 200 : 404, { connection: 'close' }).end('ok\n'));
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
}
process.send?.({ ports: servers.map((s) => (s.address() as AddressInfo).port) });
process.on('disconnect', () => process.exit(0));
