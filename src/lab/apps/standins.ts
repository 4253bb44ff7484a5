/** One registry of the stand-ins, keyed by service name, and how to start one in-process. */
import { loadConfig, type ServiceConfig, type ServiceName } from './config.ts';
import { logger, serveStandIn, type RunningService, type StandIn } from './service.ts';
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
