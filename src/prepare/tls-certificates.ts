/**
 * A machine's TLS files (fleet `tls.machineDir`): the fleet CA's certificate on every
 * machine that checks a server (the app servers' endpoints) and, on a machine that serves
 * MariaDB or Redis, its own certificate and key. The key is made on the machine and never
 * leaves it: the operator signs its request. The certificate names the machine (its fleet
 * name and address, which replicas and lifeboat check) and the shared names HAProxy checks
 * (`SHARED_NAMES`); it is renewed when a third of its life is left.
 *
 * The key is kept in one copy per server that loads it, each readable by that server's user
 * only (MariaDB runs as mysql, Redis as redis); HAProxy reads certificate and key from one
 * file as root.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { ActionError, type Action, type ActionContext, type Change } from '../actions/action.ts';
import { readIfExists } from '../actions/desired-file.ts';
import { tlsGateways } from '../actions/endpoints.ts';
import type { Fleet, Machine } from '../fleet/schema.ts';
import { runBash } from '../remote/shell.ts';
import { shq } from '../remote/remote.ts';
import { machineTlsFiles, servesData, SHARED_NAMES, tlsRequired } from '../remote/tls.ts';
import { certificateProblem, ensureCa, readCa, recordIssued, signRequest, type Ca, type CertificateNames } from './tls-ca.ts';
import { caCertPath } from '../remote/tls.ts';
import { shippingStores } from '../backup/binlogs.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The key copies a machine needs, by the servers it runs: path → owning user. */
function keyCopies(fleet: Fleet, m: Machine): Array<{ path: string; user: string }> {
  const files = machineTlsFiles(fleet);
  const out: Array<{ path: string; user: string }> = [];
  if (fleet.database && (m.roles.includes('db-primary') || m.roles.includes('db-replica'))) out.push({ path: files.mariadbKey, user: 'mysql' });
  if (fleet.redis && (m.roles.includes('redis') || m.roles.includes('redis-replica'))) out.push({ path: files.redisKey, user: 'redis' });
  return out;
}

export function certificateNames(fleet: Fleet, m: Machine): CertificateNames {
  const shared: string[] = [];
  if (fleet.database && (m.roles.includes('db-primary') || m.roles.includes('db-replica'))) shared.push(SHARED_NAMES.database);
  if (fleet.redis && (m.roles.includes('redis') || m.roles.includes('redis-replica'))) shared.push(SHARED_NAMES.redis);
  return { dns: [m.name, ...shared], ips: [m.address] };
}

/** One line per fact about the files on the machine (`name value`), read without printing a key. */
function inspectScript(fleet: Fleet, m: Machine): string {
  const f = machineTlsFiles(fleet);
  const copies = keyCopies(fleet, m);
  return [
    `dir=${shq(f.dir)}`,
    'sum() { if [ -f "$1" ]; then sha256sum < "$1" | cut -d" " -f1; else echo -; fi; }',
    'owner() { if [ -e "$1" ]; then stat -c "%U:%a" "$1"; else echo -; fi; }',
    'echo "dir $(owner "$dir")"',
    `echo "ca $(sum ${shq(f.ca)})"`,
    `if [ -f ${shq(f.key)} ]; then echo "pub $(openssl pkey -in ${shq(f.key)} -pubout 2>/dev/null | sha256sum | cut -d" " -f1)"; else echo "pub -"; fi`,
    `echo "key $(owner ${shq(f.key)}) $(sum ${shq(f.key)})"`,
    ...copies.map((c) => `echo "copy:${c.path} $(owner ${shq(c.path)}) $(sum ${shq(c.path)})"`),
    `if [ -f ${shq(f.cert)} ] && [ -f ${shq(f.key)} ]; then echo "haproxy $(owner ${shq(f.haproxyPem)}) $(sum ${shq(f.haproxyPem)}) $(cat ${shq(f.cert)} ${shq(f.key)} | sha256sum | cut -d" " -f1)"; else echo "haproxy - - -"; fi`,
  ].join('\n');
}

interface Inspection {
  ca: Ca;
  /** What is wrong, in words; empty when the machine's files are in place. */
  problems: string[];
  /** The certificate must be (re)issued (a new key with it). */
  reissue: boolean;
  /** The CA's certificate must be (re)written. */
  writeCa: boolean;
}

export function tlsFilesFor(fleet: Fleet, m: Machine): Action {
  const files = machineTlsFiles(fleet);
  const serves = servesData(m);
  const gateway = tlsGateways(fleet).some((g) => g.name === m.name);
  const names = certificateNames(fleet, m);

  async function inspect(ctx: ActionContext): Promise<Inspection | undefined> {
    const ca = await readCa(fleet);
    if (!ca) return undefined;
    const result = await runBash(ctx.remote(m.name), inspectScript(fleet, m), { timeoutMs: 20_000 });
    if (result.code !== 0) throw new ActionError('precondition', `${m.name}: cannot read its TLS files: ${result.stderr.trim().slice(-300)}`);
    const facts = new Map(result.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1).split(' ')] as const));
    const problems: string[] = [];
    const writeCa = facts.get('ca')?.[0] !== sha256(ca.certPem);
    if (writeCa) problems.push(`${files.ca} is not the fleet's CA`);
    let reissue = false;
    if (serves) {
      const certPem = await readIfExists(ctx.remote(m.name), files.cert);
      const problem = certificateProblem(certPem, ca, names, (fleet.tls.certDays / 3) * 86_400_000);
      const pub = facts.get('pub')?.[0];
      const [keyOwner, keySum] = facts.get('key') ?? [];
      // A certificate or key that is not right is made again, with a new key.
      const keyProblem = problem ? undefined
        : pub !== sha256(new X509Certificate(certPem!).publicKey.export({ type: 'spki', format: 'pem' }).toString()) ? `${files.key} does not belong to ${files.cert}`
          : keyOwner !== 'root:600' ? `${files.key} is ${keyOwner}, not root:600` : undefined;
      if (problem) problems.push(`${files.cert}: ${problem}`);
      if (keyProblem) problems.push(keyProblem);
      reissue = Boolean(problem || keyProblem);
      for (const copy of keyCopies(fleet, m)) {
        const [owner, sum] = facts.get(`copy:${copy.path}`) ?? [];
        if (reissue || owner !== `${copy.user}:600` || sum !== keySum) problems.push(`${copy.path} is not the key, ${copy.user}'s alone`);
      }
      if (gateway) {
        const [owner, sum, want] = facts.get('haproxy') ?? [];
        if (reissue || owner !== 'root:600' || sum !== want) problems.push(`${files.haproxyPem} is not the certificate and key, root's alone`);
      }
      // lifeboat reaches a machine inside TLS once it recorded the certificate it issued.
      if (!reissue && !tlsRequired(fleet, m.name)) problems.push(`the operator has no record of ${m.name}'s certificate`);
    }
    return { ca, problems, reissue, writeCa };
  }

  /** The key's copies for its servers, and HAProxy's file of certificate and key, from the key in place. */
  const copyLines = () => [
    ...keyCopies(fleet, m).map((c) => `install -m 0600 -o ${c.user} -g ${c.user} ${shq(files.key)} ${shq(`${c.path}.new`)} && mv -f ${shq(`${c.path}.new`)} ${shq(c.path)}`),
    ...(gateway ? [`cat ${shq(files.cert)} ${shq(files.key)} > ${shq(`${files.haproxyPem}.new`)} && mv -f ${shq(`${files.haproxyPem}.new`)} ${shq(files.haproxyPem)}`] : []),
  ];

  /** Makes the key on the machine and prints its certificate request. */
  const requestScript = () => [
    `dir=${shq(files.dir)}`,
    // 0711: the servers' users reach their own key copy; nobody lists the folder.
    'if [ -L "$dir" ]; then echo "$dir is a symbolic link" >&2; exit 1; fi',
    'install -d -m 0711 -o root -g root "$dir"; chown root:root "$dir"; chmod 0711 "$dir"',
    'umask 077',
    `openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/server-key.pem.new" -subj ${shq(`/CN=${m.name}`)} 2>/dev/null`,
  ].join('\n');

  /** The signed certificate arrives on standard input; the key and its copies go in place. */
  const installScript = () => [
    `dir=${shq(files.dir)}`,
    'umask 077',
    'cat > "$dir/server.pem.new"',
    'chmod 0644 "$dir/server.pem.new"',
    'mv -f "$dir/server-key.pem.new" ' + shq(files.key),
    'mv -f "$dir/server.pem.new" ' + shq(files.cert),
    ...copyLines(),
  ].join('\n');

  /** Key copies and the HAProxy file again, from the key in place (its certificate is fine). */
  const copiesScript = () => [
    'umask 077',
    ...copyLines(),
  ].join('\n');

  return {
    title: serves ? `TLS certificate and key of ${m.name}, from the fleet's CA` : `The fleet CA's certificate on ${m.name}`,
    machines: [m.name],
    mutating: true,
    async plan(ctx) {
      const s = await inspect(ctx);
      if (!s) return [{ kind: 'command', machine: m.name, command: `${serves ? 'make a key, sign its request and install the certificate' : 'install the CA certificate'} in ${files.dir}, once the fleet's CA exists` }];
      const changes: Change[] = s.problems.map((p) => ({ kind: 'note', machine: m.name, text: p }));
      if (s.problems.length === 0) return [];
      if (s.writeCa) changes.push({ kind: 'command', machine: m.name, command: `write the fleet CA's certificate to ${files.ca}` });
      if (s.reissue) changes.push({ kind: 'command', machine: m.name, command: `make a new key in ${files.key} and have the operator sign its request for ${[...names.dns, ...names.ips].join(', ')}` });
      return changes;
    },
    async apply(ctx) {
      const s = await inspect(ctx);
      if (!s) throw new ActionError('precondition', `the fleet's CA is missing (${caCertPath(fleet)})`);
      if (s.problems.length === 0) return;
      const remote = ctx.remote(m.name);
      if (s.writeCa) {
        const mk = await runBash(remote, `install -d -m 0711 -o root -g root ${shq(files.dir)}`, { timeoutMs: 10_000 });
        if (mk.code !== 0) throw new ActionError('apply-failed', `${m.name}: cannot make ${files.dir}: ${mk.stderr.trim()}`);
        await remote.writeFile(files.ca, s.ca.certPem, { mode: 0o644, backup: false });
      }
      if (!serves) return;
      if (s.reissue) {
        const req = await runBash(remote, requestScript(), { timeoutMs: 30_000 });
        if (req.code !== 0 || !req.stdout.includes('BEGIN CERTIFICATE REQUEST')) throw new ActionError('apply-failed', `${m.name}: could not make a key and certificate request: ${req.stderr.trim().slice(-300)}`);
        const certPem = await signRequest(fleet, req.stdout, names, fleet.tls.certDays);
        const put = await runBash(remote, installScript(), { stdin: certPem, timeoutMs: 20_000 });
        if (put.code !== 0) throw new ActionError('apply-failed', `${m.name}: could not put the certificate in place: ${put.stderr.trim().slice(-300)}`);
        await recordIssued(fleet, m.name, certPem);
        ctx.log(`${m.name}: certificate issued for ${[...names.dns, ...names.ips].join(', ')}, valid ${fleet.tls.certDays} days`);
        return;
      }
      const copies = await runBash(remote, copiesScript(), { timeoutMs: 20_000 });
      if (copies.code !== 0) throw new ActionError('apply-failed', `${m.name}: could not copy the key for its servers: ${copies.stderr.trim().slice(-300)}`);
      const certPem = await readIfExists(remote, files.cert);
      if (certPem) await recordIssued(fleet, m.name, certPem);
    },
    async verify(ctx) {
      const s = await inspect(ctx);
      if (!s) throw new ActionError('verify-failed', `the fleet's CA is missing (${caCertPath(fleet)})`);
      if (s.problems.length) throw new ActionError('verify-failed', `${m.name}: ${s.problems.join('; ')}`);
    },
  };
}

/** The fleet's CA on the operator's machine: created once, before any machine's certificate. */
export function fleetCa(fleet: Fleet): Action {
  return {
    title: `The fleet's certificate authority in ${fleet.tls.caDir}`,
    machines: [],
    mutating: true,
    async plan() {
      const ca = await readCa(fleet);
      if (ca && Date.parse(ca.cert.validTo) - Date.now() > 365 * 86_400_000) return [];
      return [{ kind: 'command', machine: 'operator', command: `create a CA key (EC P-256, 0600) and its self-signed certificate in ${fleet.tls.caDir} (0700), on this machine` }];
    },
    async apply(ctx) {
      await ensureCa(fleet, ctx.log);
    },
    async verify() {
      if (!(await readCa(fleet))) throw new ActionError('verify-failed', `no CA in ${fleet.tls.caDir}`);
    },
  };
}

/** Machines that get TLS files: those serving MariaDB or Redis, and those that check them (endpoints, binlog shipping). */
export function tlsMachines(fleet: Fleet, endpointHolders: readonly Machine[]): Machine[] {
  if (!fleet.tls.enabled) return [];
  const live = fleet.machines.filter((m) => !m.down && !m.roles.includes('spare'));
  // Stores that ship the primary's binary log check its certificate too.
  const shipping = new Set(shippingStores(fleet).map((m) => m.name));
  return live.filter((m) => servesData(m) || endpointHolders.some((h) => h.name === m.name) || shipping.has(m.name));
}
