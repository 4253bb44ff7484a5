/**
 * The stand-ins and how to start one in-process: the generic one for any service, and the
 * seed's richer variants (register/login, chat, uploads) the lab uses where a fleet's service
 * matches one in name, folder and config file (src/lab/servers/standins.ts decides).
 */
import { loadConfig, type ServiceConfig, type ServiceName } from './config.ts';
import { readGenericSpec } from './generic-spec.ts';
import { startGeneric } from './services/generic.ts';
import { logger, serveRunning, serveStandIn, type RunningService, type StandIn } from './service.ts';
import type { Log } from './http.ts';
import { startGoAdmin } from './services/go-admin.ts';
import { startGoApi } from './services/go-api.ts';
import { startGoFly } from './services/go-fly.ts';
import { startGoJob } from './services/go-job.ts';
import { startGoUpload } from './services/go-upload.ts';

function start(config: ServiceConfig, log: Log): Promise<RunningService> {
  switch (config.service) {
    case 'go-api': return startGoApi(config, log);
    case 'go-admin': return startGoAdmin(config, log);
    case 'go-fly': return startGoFly(config, log);
    case 'go-upload': return startGoUpload(config, log);
    case 'go-job': return startGoJob(config, log);
  }
}

/**
 * Reads the service's config (throws `ConfigError`) and serves it. `configRoot` replaces
 * `/` in front of `/wwwroot/go/...`: tests only; the lab uses the real paths.
 */
export async function startStandIn(service: ServiceName, configRoot = '/', log: Log = logger(service)): Promise<StandIn> {
  const config = await loadConfig(service, configRoot);
  return serveStandIn(config, await start(config, log), log);
}

/** Reads the generic stand-in's spec and the service's config files (throws `ConfigError`), then serves it. */
export async function startGenericStandIn(specFile: string, log?: Log): Promise<StandIn> {
  const spec = await readGenericSpec(specFile);
  const logTo = log ?? logger(spec.service);
  return serveRunning(
    { name: spec.service, listen: spec.ports.map((port) => ({ host: '', port })), ...(spec.health ? { healthPath: spec.health.path, healthyStatus: spec.health.status } : {}) },
    await startGeneric(spec, logTo),
    logTo,
  );
}
