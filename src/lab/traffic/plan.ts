/**
 * What user traffic a drill sends on a fleet: every service the edges forward to, by the
 * stand-in that plays it (src/lab/servers/standins.ts). Generic services get writes where
 * they use the database, file uploads where they are the single keeper of a data folder
 * (the files an upload sync carries), and domain-list reads; the seed's variants their own mix.
 */
import type { Fleet } from '../../fleet/schema.ts';
import type { ServiceName } from '../apps/config.ts';
import { richVariantOf } from '../servers/standins.ts';
import type { GenericTarget, TrafficPlan } from './generator.ts';
import type { SeedOp } from './records.ts';

const VARIANT_OPS: Record<ServiceName, SeedOp[]> = {
  'go-api': ['register', 'login', 'heartbeat'],
  'go-fly': ['chat'],
  'go-upload': ['upload'],
  'go-admin': ['domains'],
  'go-job': [],
};

export function trafficPlan(fleet: Fleet): TrafficPlan {
  const plan: TrafficPlan = { seed: [], generic: [] };
  for (const { service } of fleet.nginx?.upstreams ?? []) {
    const spec = fleet.services[service];
    // The lab's edges forward only to services with a port (src/lab/servers/nginx.ts).
    if (!spec?.port) continue;
    const variant = richVariantOf(fleet, service);
    if (variant) {
      plan.seed.push(...VARIANT_OPS[variant].filter((op) => !plan.seed.includes(op)));
      continue;
    }
    const usesDatabase = fleet.database !== undefined &&
      fleet.bindings.some((b) => b.service === service && Object.values(b.keys).some((k) => k.startsWith('mysql')));
    const target: GenericTarget = {
      service,
      prefix: `/${service}/`,
      writes: usesDatabase,
      files: spec.singleton && spec.dataDirs.length > 0,
      domains: usesDatabase,
    };
    if (target.writes || target.files) plan.generic.push(target);
  }
  return plan;
}

/** Services a plan sends to, for messages. */
export const planServices = (plan: TrafficPlan): string[] => [...plan.seed, ...plan.generic.map((g) => g.service)];
