/** The fleet's health check of a service, as a probe run on the machine the service runs on. */
import type { HealthSpec } from '../fleet/schema.ts';
import type { Probe } from './machine-probe.ts';

export function healthProbe(health: HealthSpec, host = '127.0.0.1'): Probe {
  if (health.type === 'tcp') return { type: 'tcp', host, port: health.port };
  return { type: 'http', url: `http://${host}:${health.port}${health.path}`, expectStatus: health.expectStatus };
}
