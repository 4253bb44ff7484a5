/**
 * "Verify the business has recovered" (seed §4.3 step 8): from the operator's vantage, every
 * domain of the surviving edges answers for every restored service, through DNS and nginx,
 * as a user's request would travel. Retried for a few seconds while reloads settle.
 */
import { ActionError } from '../actions/action.ts';
import { check, type ActionStep } from './step.ts';

export interface BusinessProbe {
  /** Domains to ask, e.g. every domain of the surviving edges. */
  domains: readonly string[];
  /** Services to ask for on each domain (the edge routes `/<service>/` to its upstream). */
  services: readonly string[];
  /** Path of each service's health check behind the edge. Default `/healthz`. */
  path?: string;
  withinMs?: number;
}

export function businessAnswers(probe: BusinessProbe): ActionStep {
  const urls = probe.domains.flatMap((d) => probe.services.map((s) => `http://${d}/${s}${probe.path ?? '/healthz'}`));
  return check('Verify the business answers through every surviving domain', {
    machines: [],
    describe: `GET ${urls.length} URL(s) from the operator's machine until each answers 2xx: ${urls.slice(0, 3).join(', ')}${urls.length > 3 ? ', …' : ''}`,
    async verify() {
      if (urls.length === 0) throw new ActionError('verify-failed', 'no surviving domain to verify the business through');
      const deadline = Date.now() + (probe.withinMs ?? 10_000);
      let failing = [...urls];
      let last = new Map<string, string>();
      while (failing.length > 0) {
        const results = await Promise.all(failing.map(async (url) => [url, await ask(url)] as const));
        last = new Map(results.filter(([, why]) => why !== undefined) as Array<[string, string]>);
        failing = [...last.keys()];
        if (failing.length === 0 || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      if (failing.length > 0) {
        throw new ActionError('verify-failed', `the business does not answer: ${failing.map((u) => `${u} (${last.get(u)})`).join('; ')}`);
      }
    },
  });
}

/** undefined when the URL answered 2xx, else why not. */
async function ask(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: 'manual' });
    await response.arrayBuffer();
    return response.ok ? undefined : `HTTP ${response.status}`;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return cause ?? (error as Error).name;
  }
}
