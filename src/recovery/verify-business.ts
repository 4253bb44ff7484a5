/**
 * "Verify the business has recovered" (seed §4.3 step 8): from the operator's vantage, every
 * domain of the surviving edges answers for every restored service, through DNS and nginx,
 * as a user's request would travel. Retried for a few seconds while reloads settle.
 */
import { ActionError } from '../actions/action.ts';
import type { Fleet } from '../fleet/schema.ts';
import { check, type ActionStep } from './step.ts';

export interface BusinessProbe {
  /** Domains to ask, e.g. every domain of the surviving edges. */
  domains: readonly string[];
  /** Services to ask for on each domain (the edge routes `/<service>/` to its upstream). */
  services: readonly string[];
  /** The fleet, for each service's own health check. */
  fleet: Fleet;
  withinMs?: number;
  /** The step's title; default BUSINESS_ANSWERS_TITLE. */
  title?: string;
}

/**
 * What a service answers behind the edge when it is up: its HTTP health check's path and
 * status; for a service with a TCP check or none, any answer the service itself gives (the
 * edge answers 502–504 when it cannot reach the service).
 */
/** The title of the check that ends a scenario's part users wait for (drills time it). */
export const BUSINESS_ANSWERS_TITLE = 'Verify the business answers through every surviving domain';

export function probeOf(fleet: Fleet, service: string): { path: string; expect: number | 'reached' } {
  const health = fleet.services[service]?.health;
  return health?.type === 'http' ? { path: health.path, expect: health.expectStatus } : { path: '/', expect: 'reached' };
}

/** Each service's health URL on each domain (the edge routes `/<service>/` to its upstream), with what it must answer. */
export function businessUrls(fleet: Fleet, domains: readonly string[], services: readonly string[]): Array<{ url: string; expect: number | 'reached' }> {
  return domains.flatMap((d) => services.map((s) => {
    const { path, expect } = probeOf(fleet, s);
    return { url: `http://${d}/${s}${path}`, expect };
  }));
}

export function businessAnswers(probe: BusinessProbe): ActionStep {
  const urls = businessUrls(probe.fleet, probe.domains, probe.services);
  const shown = urls.map((u) => u.url);
  return check(probe.title ?? BUSINESS_ANSWERS_TITLE, {
    machines: [],
    describe: `GET ${urls.length} URL(s) from the operator's machine until each answers as its health check says: ${shown.slice(0, 3).join(', ')}${shown.length > 3 ? ', …' : ''}`,
    async verify() {
      if (urls.length === 0) throw new ActionError('verify-failed', 'no surviving domain to verify the business through');
      const deadline = Date.now() + (probe.withinMs ?? 10_000);
      let failing = [...urls];
      let last = new Map<string, string>();
      while (failing.length > 0) {
        const results = await Promise.all(failing.map(async (u) => [u, await ask(u.url, u.expect)] as const));
        last = new Map(results.filter(([, why]) => why !== undefined).map(([u, why]) => [u.url, why!]));
        failing = results.filter(([, why]) => why !== undefined).map(([u]) => u);
        if (failing.length === 0 || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      if (failing.length > 0) {
        throw new ActionError('verify-failed', `the business does not answer: ${failing.map((u) => `${u.url} (${last.get(u.url)})`).join('; ')}`);
      }
    },
  });
}

/** undefined when the URL answered as expected, else why not. */
async function ask(url: string, expect: number | 'reached'): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: 'manual' });
    await response.arrayBuffer();
    const ok = expect === 'reached' ? ![502, 503, 504].includes(response.status) : response.status === expect;
    return ok ? undefined : `HTTP ${response.status}`;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return cause ?? (error as Error).name;
  }
}
