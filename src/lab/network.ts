/**
 * The lab's wires: one switch namespace `<id>-net` holding a bridge, and one namespace per
 * host whose `eth0` is a veth created inside the switch namespace and moved into the host.
 * Nothing is created in the machine's own namespace, and no namespace gets a default route,
 * so lab traffic cannot leave the machine.
 */
import { LabError } from './errors.ts';
import { LAB_PREFIX_LENGTH, type LabHost, type LabPlan } from './plan.ts';
import { runLocal, runLocalChecked } from './run.ts';

export const BRIDGE = 'br0';

export function switchNamespace(id: string): string {
  return `${id}-net`;
}

export function hostNamespace(id: string, host: string): string {
  return `${id}-${host}`;
}

export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await runLocalChecked(['ip', 'netns', 'list']);
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/** Every namespace belonging to lab `id` (switch and hosts). */
export async function labNamespaces(id: string): Promise<string[]> {
  return (await listNamespaces()).filter((ns) => ns.startsWith(`${id}-`));
}

async function inNetns(ns: string, argv: string[], stdin?: string): Promise<void> {
  await runLocalChecked(['nsenter', `--net=/run/netns/${ns}`, '--', ...argv], stdin === undefined ? {} : { stdin });
}

async function ensureNamespace(ns: string, existing: Set<string>): Promise<void> {
  if (existing.has(ns)) return;
  await runLocalChecked(['ip', 'netns', 'add', ns]);
  // IPv6 off: the lab is IPv4-only and a link-local v6 path would bypass the v4 faults.
  await inNetns(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  await runLocalChecked(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
}

/** Creates (or checks) the switch; returns the namespaces that existed before. */
export async function ensureSwitch(id: string): Promise<Set<string>> {
  const existing = new Set(await listNamespaces());
  const ns = switchNamespace(id);
  await ensureNamespace(ns, existing);
  const probe = await runLocal(['ip', '-n', ns, 'link', 'show', BRIDGE]);
  if (probe.code !== 0) {
    await runLocalChecked(['ip', '-n', ns, 'link', 'add', BRIDGE, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
  }
  await runLocalChecked(['ip', '-n', ns, 'link', 'set', BRIDGE, 'up']);
  return existing;
}

interface AddrInfo {
  ifname: string;
  operstate?: string;
  flags?: string[];
  addr_info?: Array<{ family: string; local: string }>;
}

/** Creates (or repairs) one host's namespace and its cable to the switch. */
export async function ensureHostLink(id: string, host: LabHost, existing: Set<string>): Promise<void> {
  const ns = hostNamespace(id, host.name);
  const sw = switchNamespace(id);
  if (!existing.has(ns)) {
    // A new host: the fewest processes (spawning is what costs on a busy machine).
    await ensureNamespace(ns, existing);
    await runLocalChecked(['ip', '-n', sw, 'link', 'add', host.port, 'master', BRIDGE, 'up', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await runLocalChecked(['ip', '-n', ns, '-b', '-'], { stdin: `addr add ${host.address}/${LAB_PREFIX_LENGTH} dev eth0\nlink set eth0 up\n` });
    return;
  }
  const show = await runLocal(['ip', '-n', ns, '-j', 'addr', 'show', 'dev', 'eth0']);
  let info: AddrInfo | undefined;
  if (show.code === 0) info = (JSON.parse(show.stdout) as AddrInfo[])[0];
  if (!info) {
    // A half-made port from an interrupted run would block the name: remove it first.
    await runLocal(['ip', '-n', sw, 'link', 'del', host.port]);
    await runLocalChecked(['ip', '-n', sw, 'link', 'add', host.port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  }
  await runLocalChecked(['ip', '-n', sw, 'link', 'set', host.port, 'master', BRIDGE, 'up']);
  const has = info?.addr_info?.some((a) => a.family === 'inet' && a.local === host.address) ?? false;
  if (!has) await runLocalChecked(['ip', '-n', ns, 'addr', 'add', `${host.address}/${LAB_PREFIX_LENGTH}`, 'dev', 'eth0']);
  await runLocalChecked(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
}

/** Creates (or repairs) the switch and every host's link. Safe to run on a lab that is up. */
export async function ensureNetwork(plan: LabPlan): Promise<void> {
  const existing = await ensureSwitch(plan.id);
  await Promise.all(plan.hosts.map((h) => ensureHostLink(plan.id, h, existing)));
  await assertNoDefaultRoute(plan);
}

/**
 * Shapes one host's cable to `mbit` megabit/s each way (a token bucket on both ends of its
 * veth): the operator's home line of the runbook's nights, which every copy relayed through
 * the operator crosses twice.
 */
export async function limitLink(id: string, host: LabHost, mbit: number): Promise<void> {
  if (!(mbit > 0 && mbit <= 100_000)) throw new Error(`link rate ${mbit} Mbit/s: expected (0, 100000]`);
  const tbf = ['root', 'tbf', 'rate', `${mbit}mbit`, 'burst', `${Math.max(32, Math.ceil(mbit / 8))}kb`, 'latency', '50ms'];
  await runLocalChecked(['tc', '-n', hostNamespace(id, host.name), 'qdisc', 'replace', 'dev', 'eth0', ...tbf]);
  await runLocalChecked(['tc', '-n', switchNamespace(id), 'qdisc', 'replace', 'dev', host.port, ...tbf]);
}

/** Refuses a lab whose traffic could leave the machine. */
export async function assertNoDefaultRoute(plan: LabPlan): Promise<void> {
  const names = [switchNamespace(plan.id), ...plan.hosts.map((h) => hostNamespace(plan.id, h.name))];
  await Promise.all(
    names.map(async (ns) => {
      const { stdout } = await runLocalChecked(['ip', '-n', ns, 'route', 'show', 'default']);
      if (stdout.trim()) {
        throw new LabError('default-route', `namespace ${ns} has a default route (${stdout.trim()}); the lab refuses to run with a way out of the machine`);
      }
    }),
  );
}

/** Brings a host's switch port down or up: the cable of a dead machine. */
export async function setPort(id: string, host: LabHost, up: boolean): Promise<void> {
  await runLocalChecked(['ip', '-n', switchNamespace(id), 'link', 'set', host.port, up ? 'up' : 'down']);
}

export async function portIsUp(id: string, host: LabHost): Promise<boolean> {
  const { stdout } = await runLocalChecked(['ip', '-n', switchNamespace(id), '-j', 'link', 'show', host.port]);
  const [link] = JSON.parse(stdout) as AddrInfo[];
  return !!link?.flags?.includes('UP');
}

/** Loads an nftables ruleset into the switch namespace. */
export async function loadSwitchRules(id: string, ruleset: string): Promise<void> {
  await inNetns(switchNamespace(id), ['nft', '-f', '-'], ruleset);
}

export async function deleteNamespace(ns: string): Promise<void> {
  await runLocal(['ip', 'netns', 'del', ns]);
}
