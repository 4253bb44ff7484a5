/**
 * What the generic stand-in needs to stand in for one service of any fleet, derived from the
 * fleet file alone by the lab (src/lab/servers/standins.ts) and read by the stand-in at start
 * (services/generic.ts). It lives beside the service, in its `dir`, so a machine rebuilt
 * from a copy of that folder runs the same stand-in; it holds the database password, so the
 * lab writes it 0600.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { bindingSchema } from '../../fleet/schema.ts';
import { ConfigError } from './config.ts';

const port = z.number().int().min(1).max(65535);
const identifier = z.string().regex(/^[A-Za-z0-9_]+$/);

export const genericSpecSchema = z.strictObject({
  service: z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/),
  /** Every port the service answers on: its own and its health check's. */
  ports: z.array(port),
  /** HTTP health check path and the status a healthy service answers (the fleet's `health`). */
  health: z.strictObject({ path: z.string().regex(/^\//), status: z.number().int() }).optional(),
  /** The fleet's bindings of this service: where it reads the MySQL and Redis addresses. */
  bindings: z.array(bindingSchema),
  /** Credentials and defaults the binding files do not hold (a host-only key has no port). */
  database: z.strictObject({
    port, user: z.string(), password: z.string(), schema: identifier,
    domainTable: z.strictObject({ name: identifier, domainColumn: identifier, ipColumn: identifier, statusColumn: identifier, online: z.number().int() }),
  }).optional(),
  redis: z.strictObject({ port, password: z.string().optional() }).optional(),
  singleton: z.boolean(),
  dataDirs: z.array(z.string().regex(/^\//)),
  /** Seconds between two runs of a singleton; a run lasts 60% of it (see go-job.ts for why). */
  intervalSeconds: z.number().positive().default(2),
});
export type GenericSpec = z.infer<typeof genericSpecSchema>;
export type GenericSpecInput = z.input<typeof genericSpecSchema>;

/** Where the lab puts the spec of `service` installed in `dir`. */
export const genericSpecFile = (dir: string, service: string): string => join(dir, `.lifeboat-lab-${service}.json`);

/** The tables the generic stand-ins write in the fleet's schema (the lab creates them). */
export const LAB_WRITES_TABLE = 'lifeboat_lab_writes';
export const LAB_RUNS_TABLE = 'lifeboat_lab_runs';

export async function readGenericSpec(file: string): Promise<GenericSpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError('CONFIG_MISSING', file, `cannot read the stand-in spec (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('CONFIG_UNPARSABLE', file, 'not valid JSON', { cause: error });
  }
  const result = genericSpecSchema.safeParse(doc);
  if (!result.success) {
    throw new ConfigError('CONFIG_INVALID', file, result.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; '));
  }
  return result.data;
}
