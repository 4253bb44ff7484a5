/**
 * The fleet file (`fleet.yaml`) as a zod schema: the single description of machines,
 * roles, services, config bindings, database, nginx, backups and crontabs. Everything
 * else in lifeboat receives the parsed, typed `Fleet` and never reads the YAML itself.
 */
import { z } from 'zod';

export const ROLES = [
  'edge', // nginx machine that forwards the domains to the app servers
  'app', // runs the stateless back-end services
  'db-primary', // the MariaDB primary (and the primary's crontab)
  'db-replica', // a MariaDB replica that can be promoted
  'redis', // the Redis primary
  'redis-replica', // a Redis replica
  'upload', // the service that keeps files on its local disk
  'job', // the scheduler, of which exactly one may run
  'backup-store', // keeps SQL dumps and installation files
  'spare', // a bare machine that can be provisioned as a replacement
] as const;
export type Role = (typeof ROLES)[number];

export const BINDING_KINDS = [
  'mysql-host',
  'mysql-port',
  'mysql-address', // host:port
  'mysql-dsn-goframe', // mysql:user:pass@tcp(host:port)/db
  'redis-host',
  'redis-port',
  'redis-address', // host:port
] as const;
export type BindingKind = (typeof BINDING_KINDS)[number];

const name = z
  .string()
  .max(63, 'a name is at most 63 characters')
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'expected a lower-case name of letters, digits and dashes');

/** A reference to a secret: never the secret itself. */
export const secretRef = z
  .string()
  .regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/, {
    message: 'inline secret: write `env:NAME` (an environment variable) or `file:/absolute/path` instead of the value',
  });
export type SecretRef = z.infer<typeof secretRef>;

const hostname = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'expected a domain name like example.com');
const ipv4 = z.ipv4({ message: 'expected an IPv4 address like 198.51.100.10' });
const port = z.number().int().min(1).max(65535);
/**
 * Every path ends up in a shell command, an rrsync forced command or a config file: letters,
 * digits and `. _ - + @ /` only, no `..` step, at most 1024 characters.
 */
const absPath = z
  .string()
  .max(1024, 'a path is at most 1024 characters')
  .regex(/^\//, 'expected an absolute path')
  .regex(/^[A-Za-z0-9._@+/-]*$/, 'a path may hold letters, digits and . _ - + @ / only (no spaces, quotes or shell characters)')
  .refine((p) => !p.split('/').includes('..'), 'a path may not step up with `..`');
/** A systemd unit or a supervisor program: used in commands, so the same rule as paths. */
const unitName = z
  .string()
  .max(128)
  .regex(/^[A-Za-z0-9:_.@-]+$/, 'letters, digits and : _ . @ - only')
  .refine((u) => !u.includes('..'), 'may not contain `..`');

export const sshSettings = z.strictObject({
  user: z.string().default('root'),
  port: port.default(22),
  /** Private key used to log in. */
  identity: secretRef.optional(),
  /** known_hosts file checked strictly; unknown keys are refused unless accepted explicitly. */
  knownHosts: z.string().default('~/.ssh/known_hosts'),
  connectTimeoutMs: z.number().int().positive().default(5000),
  /**
   * Copies between machines (backups, archives, folders) go straight from one to the other
   * over SSH with a key made for that copy alone. false (on a machine: for copies to it)
   * relays them through the operator's machine instead: for machines the others cannot reach.
   */
  machineToMachine: z.boolean().default(true),
});
export type SshSettings = z.infer<typeof sshSettings>;

/** Per-machine overrides of `ssh`: no defaults here, or they would mask the fleet-wide values. */
const sshOverrides = z
  .strictObject({
    user: z.string(),
    port,
    identity: secretRef,
    knownHosts: z.string(),
    connectTimeoutMs: z.number().int().positive(),
    machineToMachine: z.boolean(),
  })
  .partial();

/**
 * A machine a recovery took out of service: it holds no role until it is brought back, and
 * what it held is kept here. Written by lifeboat when a recovery ends (src/fleet/rewrite.ts).
 */
export const downSchema = z.strictObject({
  /** When the recovery that took it out ended (ISO 8601). */
  since: z.string().min(1),
  /** That recovery's run id. */
  run: z.string().min(1),
  /** The roles it held before. */
  roles: z.array(z.enum(ROLES)),
});

export const machineSchema = z.strictObject({
  name,
  address: ipv4,
  /** Empty only for a machine that is `down`. */
  roles: z.array(z.enum(ROLES)),
  domains: z.array(hostname).default([]),
  provider: z.string().optional(),
  notes: z.string().optional(),
  /** Off-site machine: backups shipped here are encrypted. */
  offsite: z.boolean().default(false),
  ssh: sshOverrides.optional(),
  down: downSchema.optional(),
}).superRefine((m, ctx) => {
  if (m.down && m.roles.length > 0) ctx.addIssue({ code: 'custom', path: ['roles'], message: 'a machine that is down holds no role (its former roles are in `down.roles`)' });
  if (!m.down && m.roles.length === 0) ctx.addIssue({ code: 'custom', path: ['roles'], message: 'expected at least one role' });
});
export type Machine = z.infer<typeof machineSchema>;

const driverSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('supervisor'), program: unitName.optional() }),
  z.strictObject({ type: z.literal('systemd'), unit: unitName.optional() }),
  z.strictObject({
    type: z.literal('command'),
    start: z.string(),
    stop: z.string(),
    status: z.string(),
  }),
]);
export type DriverSpec = z.infer<typeof driverSchema>;

const healthSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('http'),
    port,
    // An URL path: it reaches curl's command line (quoted) and reports; no space, quote, `$`, backtick or backslash.
    path: z.string().max(1024).regex(/^\/[A-Za-z0-9._~!&()*+,;=:@%/?-]*$/, 'an HTTP path like /health: letters, digits and URL characters, no spaces, quotes, $, ` or \\').default('/'),
    expectStatus: z.number().int().default(200),
  }),
  z.strictObject({ type: z.literal('tcp'), port }),
]);
export type HealthSpec = z.infer<typeof healthSchema>;

export const serviceSchema = z.strictObject({
  roles: z.array(z.enum(ROLES)).min(1),
  /** Folder the service is installed in (copied when a machine is rebuilt). */
  dir: absPath,
  port: port.optional(),
  driver: driverSchema.default({ type: 'supervisor' }),
  health: healthSchema.optional(),
  /** Exactly one copy may run in the whole fleet (a scheduler, files on local disk). */
  singleton: z.boolean().default(false),
  /** Folders holding data that must follow the service (upload files). */
  dataDirs: z.array(absPath).default([]),
  /** Restore order in the runbook: `first` services come back before `later` ones (§4.3). */
  priority: z.enum(['first', 'later']).default('first'),
});
export type Service = z.infer<typeof serviceSchema>;

export const bindingSchema = z.strictObject({
  service: name,
  file: absPath,
  format: z.enum(['yaml', 'json', 'env']),
  /** Key path in the file (dots separate levels) → what the value holds. */
  keys: z.record(z.string().min(1), z.enum(BINDING_KINDS)).refine((k) => Object.keys(k).length > 0, {
    message: 'expected at least one key',
  }),
});
export type Binding = z.infer<typeof bindingSchema>;

export const databaseSchema = z.strictObject({
  engine: z.enum(['mariadb', 'mysql']).default('mariadb'),
  schema: z.string().regex(/^[A-Za-z0-9_]+$/),
  port: port.default(3306),
  user: z.string(),
  password: secretRef,
  /** Account lifeboat uses for replication, backups and promotion. */
  adminUser: z.string().default('root'),
  adminPassword: secretRef,
  /** How the MariaDB server itself is started and stopped on a machine (provisioning, restores). */
  driver: driverSchema.default({ type: 'systemd', unit: 'mariadb' }),
  replicationUser: z.string().default('repl'),
  replicationPassword: secretRef.optional(),
  /** Tables the dumps skip (data only); their schema is always kept. */
  logTables: z.array(z.string().regex(/^[A-Za-z0-9_]+$/)).default([]),
  /** The domain list the app clients read: one row per domain with the IP serving it. */
  domainTable: z.strictObject({
    name: z.string().regex(/^[A-Za-z0-9_]+$/),
    domainColumn: z.string().regex(/^[A-Za-z0-9_]+$/),
    ipColumn: z.string().regex(/^[A-Za-z0-9_]+$/),
    statusColumn: z.string().regex(/^[A-Za-z0-9_]+$/),
    online: z.number().int(),
    offline: z.number().int(),
  }),
});
export type Database = z.infer<typeof databaseSchema>;

export const redisSchema = z.strictObject({
  port: port.default(6379),
  /** How redis-server is started and stopped on a machine. */
  driver: driverSchema.default({ type: 'systemd', unit: 'redis-server' }),
  password: secretRef.optional(),
});

export const nginxSchema = z.strictObject({
  /** The include file lifeboat owns on every edge; nothing else in nginx is edited. */
  upstreamFile: absPath.default('/etc/nginx/conf.d/lifeboat-upstreams.conf'),
  /** One upstream block per service that the edges forward to. */
  upstreams: z.array(z.strictObject({ name: z.string().regex(/^[A-Za-z0-9_]+$/), service: name })).min(1),
  /** Command that reloads nginx after `nginx -t` passed. */
  reload: z.string().default('nginx -s reload'),
  /** How nginx itself is started on a new edge. */
  driver: driverSchema.default({ type: 'systemd', unit: 'nginx' }),
  /** The site config that routes the domains to the upstreams; copied from a surviving edge to a new one. */
  siteFiles: z.array(absPath).default(['/etc/nginx/conf.d']),
});

/**
 * Stable local endpoints: on every machine whose services are bound to MariaDB or Redis,
 * HAProxy (TCP) listens on 127.0.0.1 and forwards to wherever the live primary is. The
 * services' bindings point at it once (`prepare`); a database move then switches the
 * endpoints through HAProxy's runtime API, with no config edit and no restart of a service.
 */
export const endpointsSchema = z.strictObject({
  /** Local port that reaches the live MariaDB primary. */
  databasePort: port.default(13306),
  /** Local port that reaches the live Redis primary (when the fleet has Redis). */
  redisPort: port.default(16379),
  /** The HAProxy configuration lifeboat owns on each such machine (it records the live addresses). */
  config: absPath.default('/var/lib/lifeboat/endpoints.cfg'),
  /** HAProxy's runtime API socket (admin level, root only). */
  socket: absPath.default('/run/lifeboat-endpoints.sock'),
  haproxy: absPath.default('/usr/sbin/haproxy'),
});
export type Endpoints = z.infer<typeof endpointsSchema>;

/**
 * TLS between machines for MariaDB and Redis, from a private CA that `prepare` creates on
 * the operator's machine: MariaDB and Redis serve TLS with a certificate per machine, the
 * replication links and lifeboat's own connections verify it, and where the fleet has
 * `endpoints` the services' traffic crosses the network inside TLS too (HAProxy originates it
 * on the app server; on a database machine HAProxy ends it in front of MariaDB, whose
 * protocol starts in clear and cannot be forwarded into TLS by a proxy).
 */
export const tlsSchema = z.strictObject({
  /** false keeps MariaDB and Redis traffic between machines in clear text. */
  enabled: z.boolean().default(true),
  /** On the operator's machine: the CA (`ca.pem`, and `ca.key` 0600) in a 0700 folder. */
  caDir: absPath.default('/etc/lifeboat/tls'),
  /** On every machine: the CA's certificate and the machine's own certificate and keys. */
  machineDir: absPath.default('/etc/lifeboat/tls'),
  /**
   * Where a database machine takes TLS connections for MariaDB (the endpoints use it).
   * Default: the first port from 13307 up that nothing else of the fleet uses (`tlsPorts`).
   */
  databasePort: port.optional(),
  /** Redis's own TLS port (replicas, the endpoints and lifeboat connect there). Default: the first free one from 16380 up. */
  redisPort: port.optional(),
  /** How long a machine's certificate is valid; `prepare` renews it when a third is left. */
  certDays: z.number().int().min(3).max(825).default(397),
});
export type TlsSettings = z.infer<typeof tlsSchema>;
export const TLS_DEFAULTS: TlsSettings = { enabled: true, caDir: '/etc/lifeboat/tls', machineDir: '/etc/lifeboat/tls', certDays: 397 };

export const backupSchema = z.strictObject({
  /** Where SQL dumps live on every store. */
  dumpDir: absPath.default('/var/backups/lifeboat/dumps'),
  /** Where installation archives live on every store. */
  installDir: absPath.default('/var/lib/lifeboat/install'),
  /** Machines that receive every backup. */
  stores: z.array(name).min(1),
  retention: z
    .strictObject({ hourly: z.number().int().min(1).default(24), daily: z.number().int().min(0).default(7) })
    .default({ hourly: 24, daily: 7 }),
  /** Cron schedule of `lifeboat backup run`. */
  schedule: z.string().default('0 * * * *'),
  /** Key for the copies shipped to off-site stores. */
  encryptionKey: secretRef.optional(),
  /**
   * The primary's binary log copied continuously to the stores (`prepare`), so a restore
   * replays up to the last transaction that reached them; off-site stores keep it sealed for
   * `encryptionKey` (none without it). false turns it off.
   */
  binlogs: z.boolean().default(true),
  /** Where the stores keep the shipped binary logs, one folder per source machine. */
  binlogDir: absPath.default('/var/lib/lifeboat/binlogs'),
});

export const cronEntrySchema = z.strictObject({
  schedule: z.string().regex(/^(\S+\s+){4}\S+$/, 'expected a five-field cron schedule like "* * * * *"'),
  command: z.string().min(1),
});
export type CronEntry = z.infer<typeof cronEntrySchema>;

/** The runbook's scenarios, by name (src/recovery/scenarios registers one for each). */
export const SCENARIO_NAMES = ['edge-down', 'backup-down', 'primary-down', 'both-app-down', 'total-loss', 'rejoin'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/**
 * What the watch daemon does when its diagnosis names a scenario: `notify` alerts only,
 * `confirm` alerts with the plan and waits for `lifeboat approve RUN`, `auto` runs it.
 */
export const POLICIES = ['notify', 'confirm', 'auto'] as const;
export type Policy = (typeof POLICIES)[number];

const httpUrl = z.url({ protocol: /^https?$/ });
const alertSchema = z.discriminatedUnion('type', [
  /** A JSON POST; with `secret`, signed: `X-Lifeboat-Signature: sha256=<HMAC of the body>`. */
  z.strictObject({ type: z.literal('webhook'), url: httpUrl, secret: secretRef.optional() }),
  /** Telegram Bot API `sendMessage`; `apiBase` only for a local stand-in in tests. */
  z.strictObject({ type: z.literal('telegram'), token: secretRef, chatId: z.string().min(1), apiBase: httpUrl.default('https://api.telegram.org') }),
  /** A DingTalk group robot: its webhook URL (it holds the access token) and its signing secret. */
  z.strictObject({ type: z.literal('dingtalk'), webhook: secretRef, secret: secretRef.optional() }),
  /** A WeCom (企业微信) group robot: its webhook URL (it holds the key). */
  z.strictObject({ type: z.literal('wecom'), webhook: secretRef }),
  /** A Feishu / Lark custom bot: its webhook URL and its signing secret. */
  z.strictObject({ type: z.literal('feishu'), webhook: secretRef, secret: secretRef.optional() }),
  /** E-mail over SMTP. */
  z.strictObject({
    type: z.literal('email'),
    host: z.string().min(1),
    port: port.default(587),
    /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
    secure: z.boolean().default(false),
    user: z.string().optional(),
    password: secretRef.optional(),
    from: z.string().min(3),
    to: z.array(z.string().min(3)).min(1),
  }),
]);
export type AlertSpec = z.infer<typeof alertSchema>;

/**
 * Verdicts about the path to a machine rather than the machine (src/health/reachability.ts).
 * No runbook acts on them yet, so their only policy is `notify`.
 */
export const BLOCK_VERDICTS = ['ip-blocked', 'port-blocked', 'domain-blocked'] as const;
/** What is wrong on machines that are alive (src/health/conditions.ts): alerted, never acted on. */
export const CONDITION_VERDICTS = ['service-down', 'db-down', 'replication-broken', 'replication-at-risk', 'backup-stale', 'binlog-behind', 'cert-expiring', 'disk-full'] as const;
/** Verdicts no runbook acts on yet: their only policy is `notify`. */
export const NOTIFY_ONLY = [...BLOCK_VERDICTS, ...CONDITION_VERDICTS] as const;
/** What `watch.policy` and `watch.rounds` may name. */
export const POLICY_KEYS = [...SCENARIO_NAMES, ...NOTIFY_ONLY] as const;
export const ROUND_KINDS = ['dead', ...NOTIFY_ONLY] as const;

/** The users'-side probes (`lifeboat probe --push`): what they check and how they sign. */
export const usersSideSchema = z.strictObject({
  /** Shared with every users'-side probe: it signs their requests (HMAC-SHA256). */
  token: secretRef,
  /** Seconds between two of a probe's rounds. */
  intervalS: z.number().min(1).max(3600).default(5),
  /** A connect or request silent this long counts as `silent`. */
  timeoutMs: z.number().int().min(100).max(60_000).default(2000),
  /**
   * Ports checked on every machine that serves a domain. Default: the machine's SSH port, 80
   * and 443. List only ports the users' network is allowed to reach: one never reachable from
   * there reads as blocked.
   */
  ports: z.array(port).min(1).max(32).optional(),
});
export type UsersSideSettings = z.infer<typeof usersSideSchema>;

export const watchSchema = z.strictObject({
  /** Seconds between two rounds of verdicts. */
  intervalS: z.number().min(0.5).max(3600).default(5),
  /** Consecutive rounds a machine must be judged dead before anything is done about it. */
  deadRounds: z.number().int().min(1).max(100).default(2),
  /**
   * How long a machine must have been seen dead, from the first round that saw it to the one
   * that confirms it: a cut shorter than this is a blip, however many rounds saw it. Default
   * intervalS × (deadRounds − 1), the time those rounds take at the usual pace.
   */
  deadForS: z.number().min(0).max(3600).optional(),
  /** Consecutive rounds per verdict kind (`dead` overrides deadRounds); a kind not named uses deadRounds. */
  rounds: z.partialRecord(z.enum(ROUND_KINDS), z.number().int().min(1).max(100)).default({}),
  /** Per scenario or blocked verdict; one not named here is `notify`. */
  policy: z
    .partialRecord(z.enum(POLICY_KEYS), z.enum(POLICIES))
    .default({})
    .superRefine((policy, ctx) => {
      for (const kind of NOTIFY_ONLY) {
        if (policy[kind] !== undefined && policy[kind] !== 'notify') {
          ctx.addIssue({ code: 'custom', path: [kind], message: `no runbook acts on ${kind} yet: its only policy is notify` });
        }
      }
    }),
  /** Users'-side probes report to the daemon (needs `lifeboat serve --listen`). */
  usersSide: usersSideSchema.optional(),
  /** When set, `GET /metrics` needs `Authorization: Bearer <token>` (or a dashboard session); open otherwise. */
  metricsToken: secretRef.optional(),
  /** The conditions read on machines that are alive, and their limits. */
  health: z.strictObject({
    /** Seconds between two readings (a fleet status, disks, backups, certificates). */
    intervalS: z.number().min(5).max(86_400).default(30),
    diskFullPercent: z.number().min(50).max(100).default(90),
    /** The newest copy on a store may be this old. */
    backupMaxAgeS: z.number().int().min(60).default(3 * 3600),
    /** A store's copy of the primary's binary log may fall this far behind (its RPO). */
    binlogMaxLagS: z.number().int().min(1).default(60),
    certWarnDays: z.number().int().min(0).max(365).default(14),
  }).default({ intervalS: 30, diskFullPercent: 90, backupMaxAgeS: 3 * 3600, binlogMaxLagS: 60, certWarnDays: 14 }),
  /** After an automatic recovery, no other starts until this has passed or a person acknowledges it. */
  cooldownS: z.number().int().min(0).default(3600),
  alerts: z.array(alertSchema).default([]),
});
export type WatchSettings = z.infer<typeof watchSchema>;

/** `watch.deadForS`, or its default: the time the dead rounds take at the usual pace. */
export function deadForS(w: Pick<WatchSettings, 'intervalS' | 'deadRounds' | 'deadForS'> & { rounds?: WatchSettings['rounds'] }): number {
  return w.deadForS ?? w.intervalS * ((w.rounds?.dead ?? w.deadRounds) - 1);
}

/**
 * A DNS zone the business's domains live in, and how lifeboat changes its records (ACME
 * DNS-01 challenges, A records when a domain moves): one of the providers of src/dns/.
 */
const dnsZoneSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('rfc2136'), zone: hostname, server: z.string().min(1), port: port.default(53), keyName: z.string().min(1), algorithm: z.enum(['hmac-sha256', 'hmac-sha512']).default('hmac-sha256'), secret: secretRef }),
  z.strictObject({ type: z.literal('cloudflare'), zone: hostname, token: secretRef }),
  z.strictObject({ type: z.literal('dnspod'), zone: hostname, secretId: z.string().min(1), secretKey: secretRef }),
  z.strictObject({ type: z.literal('alidns'), zone: hostname, accessKeyId: z.string().min(1), accessKeySecret: secretRef }),
]);
export type DnsZone = z.infer<typeof dnsZoneSchema>;

export const ACME_DIRECTORIES = {
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
  letsencrypt: 'https://acme-v02.api.letsencrypt.org/directory',
} as const;

const acmeSchema = z.strictObject({
  /** `letsencrypt-staging` (the default: a first run there), `letsencrypt`, or any ACME directory's https URL. */
  directory: z.string().default('letsencrypt-staging').refine((d) => d in ACME_DIRECTORIES || /^https:\/\/[^\s]+$/.test(d), 'letsencrypt-staging, letsencrypt, or an https:// URL of an ACME directory'),
  email: z.string().regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an e-mail address').optional(),
  /** The operator's private folder for the ACME account and the certificates. */
  dir: z.string().min(1).default('~/.lifeboat/acme'),
  /** A PEM file of a CA the ACME server's own HTTPS is checked against (a private ACME server; Pebble in tests). */
  serverCa: z.string().min(1).optional(),
});

export const fleetSchema = z.strictObject({
  version: z.literal(1),
  name,
  ssh: sshSettings.default({ user: 'root', port: 22, knownHosts: '~/.ssh/known_hosts', connectTimeoutMs: 5000, machineToMachine: true }),
  machines: z.array(machineSchema).min(1),
  services: z.record(name, serviceSchema).default({}),
  bindings: z.array(bindingSchema).default([]),
  database: databaseSchema.optional(),
  redis: redisSchema.optional(),
  nginx: nginxSchema.optional(),
  endpoints: endpointsSchema.optional(),
  tls: tlsSchema.default(TLS_DEFAULTS),
  backups: backupSchema.optional(),
  /**
   * How to power off a machine no SSH path reaches (a provider's CLI or API call), run on the
   * operator's machine with LIFEBOAT_MACHINE and LIFEBOAT_ADDRESS set; exit 0 means it is
   * off. Without it, an unreachable old primary's singletons wait for a person.
   */
  fencing: z.strictObject({ command: z.string().min(1), timeoutS: z.number().int().min(1).max(3600).default(120) }).optional(),
  /**
   * Folders that belong to a role's installation besides the services' own (scripts the
   * crontab runs, shared assets): copied to a new machine of the role and archived with it.
   * Data inside them (services' dataDirs, backups.dumpDir) is left out.
   */
  extraDirs: z.array(z.strictObject({ path: absPath, roles: z.array(z.enum(ROLES)).min(1) })).default([]),
  /** The watch daemon (`lifeboat serve`): how often it judges, and what it does about a failure. */
  watch: watchSchema.optional(),
  /** Crontab lines per role: a machine gets the entries of every role it holds. */
  crontabs: z.partialRecord(z.enum(ROLES), z.array(cronEntrySchema)).default({}),
  /** The zones the domains live in, and their providers. */
  dns: z.strictObject({ zones: z.array(dnsZoneSchema).min(1) }).optional(),
  /** Certificates for every domain and spare domain, from an ACME CA by DNS-01. */
  acme: acmeSchema.optional(),
  /** Domains registered in advance and not in the domain list yet: certificates ready, put online when one is blocked. */
  spareDomains: z.array(hostname).default([]),
});
export type Fleet = z.infer<typeof fleetSchema>;
export type FleetInput = z.input<typeof fleetSchema>;
