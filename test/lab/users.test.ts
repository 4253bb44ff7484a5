/**
 * The users' vantage: from the lab's client host, through the lab's DNS, every seed domain
 * reaches the right service and the services read and write the real MariaDB and Redis.
 * Edge domains go through nginx on port 80 (path prefixes /api/, /admin/, /chat/, /upload/);
 * an app server's own domains reach its go-api directly (the seed's app servers run no nginx).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Lab } from '../../src/lab/lab.ts';
import { runChecked, shq } from '../../src/remote/remote.ts';
import { canRunLab, EXAMPLE_FLEET, forceDown, randomLabId } from './helpers.ts';

const skip = canRunLab();

describe('the lab seen from the users', { skip }, () => {
  const id = randomLabId();
  let lab: Lab;

  before(async () => {
    lab = await Lab.up({ id, fleetFile: EXAMPLE_FLEET });
  });
  after(() => forceDown(id));

  /** An HTTP request from the client host: status and JSON body. */
  async function ask(method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const data = body === undefined ? '' : ` -H 'content-type: application/json' --data ${shq(JSON.stringify(body))}`;
    const r = await runChecked(lab.remote('client'), `curl -s -m 5 -X ${method}${data} -w '\\n%{http_code}' ${shq(url)}`);
    const lines = r.stdout.trimEnd().split('\n');
    const status = Number(lines.pop());
    return { status, json: JSON.parse(lines.join('\n') || '{}') as Record<string, unknown> };
  }

  async function sql(query: string): Promise<string> {
    return (await runChecked(lab.remote('primary'), `mariadb -N -B -e ${shq(query)}`)).stdout.trim();
  }

  test('every edge domain reaches go-api, go-fly, go-admin and go-upload through nginx, and they use MariaDB and Redis', async () => {
    const edges = lab.fleet.machines.filter((m) => m.roles.includes('edge'));
    assert.equal(edges.flatMap((m) => m.domains).length, 4);
    for (const domain of edges.flatMap((m) => m.domains)) {
      const user = `user-${domain}`;
      const registered = await ask('POST', `http://${domain}/api/register`, { username: user, password: 'secret-1' });
      assert.equal(registered.status, 201, `${domain}: register`);
      const login = await ask('POST', `http://${domain}/api/login`, { username: user, password: 'secret-1' });
      assert.equal(login.status, 200, `${domain}: login`);
      const token = String(login.json.token);
      const beat = await ask('POST', `http://${domain}/api/heartbeat`, { token });
      assert.equal(beat.status, 200, `${domain}: heartbeat with the session kept in Redis`);
      const chat = await ask('POST', `http://${domain}/chat/messages`, { sender: user, body: `hello from ${domain}` });
      assert.equal(chat.status, 201, `${domain}: chat`);
      const list = await ask('GET', `http://${domain}/admin/domains`);
      assert.ok((list.json.domains as Array<{ domain: string }>).some((d) => d.domain === domain), `${domain}: the domain list lists it`);
      const upload = await runChecked(lab.remote('client'), `printf 'file of %s' ${shq(domain)} | curl -s -m 5 -X POST --data-binary @- -w '\\n%{http_code}' ${shq(`http://${domain}/upload/files?name=${domain}.txt`)}`);
      assert.match(upload.stdout, /\n201$/, `${domain}: upload`);

      // What the services wrote is really in MariaDB and Redis on the primary.
      assert.equal(await sql(`SELECT COUNT(*) FROM speed.users WHERE username = '${user}'`), '1');
      assert.equal(await sql(`SELECT COUNT(*) FROM speed.chat_messages WHERE body = 'hello from ${domain}'`), '1');
      const session = await runChecked(lab.remote('primary'), `redis-cli -h ${lab.host('primary').address} GET ${shq(`session:${token}`)}`);
      assert.equal(session.stdout.trim(), String(login.json.id));
      const file = await runChecked(lab.remote('primary'), `cat /wwwroot/go/go-upload/uploads/${domain}.txt`);
      assert.equal(file.stdout, `file of ${domain}`);
    }
  });

  test("an app server's own domains reach its go-api directly, through the lab's DNS", async () => {
    for (const m of lab.fleet.machines.filter((x) => x.roles.includes('app'))) {
      for (const domain of m.domains) {
        const r = await ask('POST', `http://${domain}:8000/api/register`, { username: `direct-${domain}`, password: 'secret-2' });
        assert.equal(r.status, 201, `${domain} (${m.name})`);
        const dig = await runChecked(lab.remote('client'), `dig +short +time=1 +tries=1 ${shq(domain)}`);
        assert.equal(dig.stdout.trim(), lab.host(m.name).address, `${domain} resolves to ${m.name}`);
      }
    }
    assert.equal(await sql("SELECT COUNT(*) FROM speed.users WHERE username LIKE 'direct-%'"), '3');
  });
});
