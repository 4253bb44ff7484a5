/**
 * Every fault kind on one shared lab: its effect seen from the vantage point that matters
 * (the client for blocks and DNS, ops or a peer for the rest), that other paths are
 * untouched, and that heal undoes it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Lab } from '../../src/lab/lab.ts';
import { SINKHOLE_ADDRESS } from '../../src/lab/plan.ts';
import { LabError } from '../../src/lab/errors.ts';
import { runChecked } from '../../src/remote/remote.ts';
import { canRunLab, EXAMPLE_FLEET, forceDown, randomLabId } from './helpers.ts';
import { startDaemon, startUsersProbe, waitForEvents } from '../../src/lab/drill/daemon.ts';

const skip = canRunLab();

describe('lab faults', { skip }, () => {
  const id = randomLabId();
  let lab: Lab;

  /**
   * True when `from` opens a TCP connection to `to:port` within 1.5 s: a connection on the
   * lab's switch takes milliseconds, so that is generous on a busy machine too, and each
   * dropped connection the tests expect waits it out.
   */
  const reaches = async (from: string, to: string, port: number): Promise<boolean> => {
    const r = await lab.exec(from, `timeout 1.5 bash -c '</dev/tcp/${lab.host(to).address}/${port}'`, { timeoutMs: 10_000 });
    return r.code === 0;
  };
  const dig = async (from: string, domain: string) => (await lab.exec(from, `dig +short +time=1 +tries=1 ${domain}`)).stdout.trim();

  before(async () => {
    lab = await Lab.up({ id, fleetFile: EXAMPLE_FLEET });
  });
  after(() => forceDown(id));

  test('machine-down: processes gone and cable cut; heal reboots it with its disk kept, in seconds', async () => {
    await runChecked(lab.remote('primary'), 'echo kept > /wwwroot/survives-reboot');
    await lab.fault({ kind: 'machine-down', host: 'primary' });
    assert.equal(await reaches('ops', 'primary', 22), false);
    assert.equal(await reaches('ops', 'backup', 22), true);
    assert.throws(() => lab.anchorPid('primary'), (e: unknown) => e instanceof LabError && e.code === 'not-found');
    const status = await lab.status();
    const primary = status.hosts.find((h) => h.name === 'primary')!;
    assert.equal(primary.running, false);
    assert.equal(primary.link, false);
    assert.deepEqual(status.faults.map((f) => f.kind), ['machine-down']);
    // A second `lab up` must not resurrect a machine that is down on purpose.
    await Lab.up({ id, fleetFile: EXAMPLE_FLEET });
    assert.equal(await reaches('ops', 'primary', 22), false);

    const t0 = performance.now();
    await lab.heal({ kind: 'machine-down', host: 'primary' });
    process.stdout.write(`# machine reboot (heal machine-down, every server answering): ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
    assert.equal(await reaches('ops', 'primary', 22), true);
    assert.equal(await reaches('ops', 'primary', 3306), true);
    assert.equal((await lab.exec('primary', 'cat /wwwroot/survives-reboot')).stdout, 'kept\n');
    assert.equal(lab.faults.length, 0);
  });

  test('link-down: the cable is pulled but the machine runs on; heal plugs it back', async () => {
    await lab.fault({ kind: 'link-down', host: 'backup' });
    assert.equal(await reaches('ops', 'backup', 22), false);
    assert.ok(lab.anchorPid('backup') > 0, 'its processes still run');
    assert.equal(await reaches('backup', 'backup', 3306), true, 'its MariaDB answers on the machine itself');
    await lab.heal({ kind: 'link-down', host: 'backup' });
    assert.equal(await reaches('ops', 'backup', 22), true);
  });

  test('partition: the chosen hosts lose each other only', async () => {
    await lab.fault({ kind: 'partition', hosts: ['primary', 'backup'] });
    assert.equal(await reaches('primary', 'backup', 3306), false);
    await Lab.up({ id, fleetFile: EXAMPLE_FLEET });
    assert.equal(await reaches('primary', 'backup', 3306), false, 'lab up lifted a partition');
    assert.equal(await reaches('backup', 'primary', 3306), false);
    assert.equal(await reaches('primary', 'edge-1', 80), true);
    assert.equal(await reaches('ops', 'backup', 3306), true);
    await lab.heal({ kind: 'partition', hosts: ['backup', 'primary'] });
    assert.equal(await reaches('primary', 'backup', 3306), true);
  });

  test('ip-blocked: the client cannot reach the address, everyone else can', async () => {
    await lab.fault({ kind: 'ip-blocked', host: 'edge-1' });
    assert.equal(await reaches('client', 'edge-1', 80), false);
    assert.equal(await reaches('client', 'edge-2', 80), true);
    assert.equal(await reaches('ops', 'edge-1', 80), true);
    await lab.heal({ kind: 'ip-blocked', host: 'edge-1' });
    assert.equal(await reaches('client', 'edge-1', 80), true);
  });

  test('port-blocked: that port times out on the switch, other ports answer', async () => {
    await lab.fault({ kind: 'port-blocked', host: 'primary', port: 3306 });
    assert.equal(await reaches('ops', 'primary', 3306), false);
    assert.equal(await reaches('backup', 'primary', 3306), false);
    assert.equal(await reaches('ops', 'primary', 22), true);
    await lab.heal({ kind: 'port-blocked', host: 'primary', port: 3306 });
    assert.equal(await reaches('ops', 'primary', 3306), true);
  });

  test('domain-blocked: the client gets a poisoned answer, other hosts the truth', async () => {
    const truth = lab.host('edge-1').address;
    assert.equal(await dig('client', 'thertee.xyz'), truth);
    await lab.fault({ kind: 'domain-blocked', domain: 'thertee.xyz' });
    assert.equal(await dig('client', 'thertee.xyz'), SINKHOLE_ADDRESS);
    assert.equal(await dig('client', 'weechat.xyz'), truth);
    assert.equal(await dig('ops', 'thertee.xyz'), truth);
    // A second `lab up` rewrites named.conf: it must keep the poison (named reads it on restart).
    await Lab.up({ id, fleetFile: EXAMPLE_FLEET });
    assert.match((await lab.exec('dns', 'cat /etc/bind/named.conf')).stdout, /zone "thertee\.xyz" \{ type master; file "\/etc\/bind\/poisoned\//);
    await lab.heal({ kind: 'domain-blocked', domain: 'thertee.xyz' });
    assert.equal(await dig('client', 'thertee.xyz'), truth);
  });

  test('service-crashed: the supervisor program stops and stays stopped until healed', async () => {
    const ip = lab.host('primary').address;
    await lab.remote('primary').writeFile(
      '/etc/supervisor/conf.d/lab-probe.conf',
      `[program:lab-probe]\ncommand=python3 -m http.server 8099 --bind ${ip}\ndirectory=/tmp\nautorestart=true\nstartsecs=1\n`,
      { backup: false },
    );
    await runChecked(lab.remote('primary'), 'supervisorctl -c /etc/supervisor/supervisord.conf update >/dev/null; i=0; until timeout 1 bash -c "</dev/tcp/' + ip + '/8099" 2>/dev/null; do i=$((i+1)); [ $i -ge 100 ] && exit 1; sleep 0.1; done');
    assert.equal(await reaches('ops', 'primary', 8099), true);
    await lab.fault({ kind: 'service-crashed', host: 'primary', program: 'lab-probe' });
    assert.equal(await reaches('ops', 'primary', 8099), false);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await reaches('ops', 'primary', 8099), false, 'supervisor restarted a crashed service that must stay down');
    await lab.heal({ kind: 'service-crashed', host: 'primary', program: 'lab-probe' });
    assert.equal(await reaches('ops', 'primary', 8099), true);
    await assert.rejects(lab.fault({ kind: 'service-crashed', host: 'primary', program: 'no-such-program' }), LabError);
  });

  test('mariadb-crashed: mariadbd killed -9, connections refused; heal restarts it with its data', async () => {
    await runChecked(lab.remote('backup'), `mariadb -e "CREATE TABLE IF NOT EXISTS speed.lab_crash (id INT PRIMARY KEY); INSERT INTO speed.lab_crash VALUES (7)"`);
    await lab.fault({ kind: 'mariadb-crashed', host: 'backup' });
    assert.equal(await reaches('ops', 'backup', 3306), false);
    assert.equal(await reaches('ops', 'backup', 22), true);
    await lab.heal({ kind: 'mariadb-crashed', host: 'backup' });
    const r = await runChecked(lab.remote('ops'), `mariadb -h ${lab.host('backup').address} -uroot -p"$(cat /lab/secrets/db-admin-password)" -N -e 'SELECT id FROM speed.lab_crash'`);
    assert.equal(r.stdout.trim(), '7');
  });

  test('disk-full: writes fail with no space left; heal gives the space back', async () => {
    await lab.fault({ kind: 'disk-full', host: 'primary' });
    const full = await lab.exec('primary', 'echo data > /wwwroot/after-full');
    assert.notEqual(full.code, 0);
    assert.match(full.stderr, /No space left|I\/O error/);
    assert.equal((await lab.exec('backup', 'echo data > /wwwroot/other-host')).code, 0, 'another host is full too');
    await lab.heal({ kind: 'disk-full', host: 'primary' });
    assert.equal((await lab.exec('primary', 'echo data > /wwwroot/after-full')).code, 0);
  });

  test('heal without arguments undoes every fault; an unknown fault or host is refused', async () => {
    await lab.fault({ kind: 'port-blocked', host: 'edge-2', port: 80 });
    await lab.fault({ kind: 'domain-blocked', domain: 'beiyo.xyz' });
    assert.equal(lab.faults.length, 2);
    await lab.heal();
    assert.equal(lab.faults.length, 0);
    assert.equal(await reaches('client', 'edge-2', 80), true);
    assert.equal(await dig('client', 'beiyo.xyz'), lab.host('backup').address);
    await assert.rejects(lab.fault({ kind: 'machine-down', host: 'nope' }), (e: unknown) => e instanceof LabError && e.code === 'unknown-host');
    await assert.rejects(lab.fault({ kind: 'domain-blocked', domain: 'example.com' }), (e: unknown) => e instanceof LabError && e.code === 'bad-fault');
    await assert.rejects(lab.heal({ kind: 'disk-full', host: 'primary' }), (e: unknown) => e instanceof LabError && e.code === 'bad-fault');
  });

  // The users'-side verdicts against the real thing: the daemon (observe mode) in ops, the
  // probe in the client host, faults on the lab's switch and DNS. Here because these faults
  // are what it must tell apart, and this lab is already up.
  // Conditions (a crashed service, a full disk) are read against the real thing in
  // test/control/health-reading.test.ts, without waiting for the daemon's readings here.
  test("the daemon tells blocked from dead: ip-blocked and domain-blocked from the client's side, never a failover", async () => {
    const daemon = await startDaemon(lab, { fleetFile: lab.fleetFile, args: ['--observe', '--interval', '2', '--policy', 'edge-down=auto', '--policy', 'primary-down=auto'], timeoutMs: 300_000 });
    let probe: Awaited<ReturnType<typeof startUsersProbe>> | undefined;
    const t0 = performance.now();
    const phase = (what: string) => process.stdout.write(`# daemon test: ${what} at ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    try {
      await waitForEvents(daemon.file, (ev) => ev.some((e) => e.type === 'started'), 60_000, 'the daemon did not start');
      probe = await startUsersProbe(lab, 300_000);
      await waitForEvents(daemon.file, (ev) => ev.filter((e) => e.type === 'verdict').length >= lab.fleet.machines.length, 60_000, 'the daemon did not judge every machine');
      phase('watching');
      await lab.fault({ kind: 'ip-blocked', host: 'edge-1' });
      const blocked = await waitForEvents(daemon.file, (ev) => ev.some((e) => e.type === 'blocked'), 90_000, 'no blocked verdict');
      const ip = blocked.find((e) => e.type === 'blocked');
      assert.ok(ip?.type === 'blocked');
      assert.deepEqual([ip.kind, ip.target], ['ip-blocked', 'edge-1']);
      assert.ok(ip.evidence.some((r) => r.vantage === 'users:client' && r.seen === 'silent'), JSON.stringify(ip.evidence));
      phase('ip-blocked');
      await lab.heal({ kind: 'ip-blocked', host: 'edge-1' });
      await waitForEvents(daemon.file, (ev) => ev.some((e) => e.type === 'unblocked' && e.target === 'edge-1'), 90_000, 'edge-1 not unblocked');
      phase('unblocked');
      await lab.fault({ kind: 'domain-blocked', domain: 'weechat.xyz' });
      const domain = await waitForEvents(daemon.file, (ev) => ev.some((e) => e.type === 'blocked' && e.kind === 'domain-blocked'), 90_000, 'no domain-blocked verdict');
      const d = domain.find((e) => e.type === 'blocked' && e.kind === 'domain-blocked');
      assert.ok(d?.type === 'blocked' && d.target === 'weechat.xyz');
      assert.ok(d.evidence.some((r) => r.vantage === 'users:client' && r.seen === SINKHOLE_ADDRESS), JSON.stringify(d.evidence));
      phase('domain-blocked');
      await lab.heal({ kind: 'domain-blocked', domain: 'weechat.xyz' });
      const all = await daemon.events();
      assert.deepEqual(all.filter((e) => e.type === 'decision' || e.type === 'incident-opened'), [], 'nothing is failed over for a blocked path');
      assert.ok(!all.some((e) => e.type === 'verdict' && e.kind === 'dead'), 'no machine is judged dead');
    } finally {
      await probe?.stop();
      await daemon.stop();
    }
  });
});
