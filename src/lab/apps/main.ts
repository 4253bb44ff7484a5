/**
 * Entry point of every stand-in: `node --import tsx src/lab/apps/main.ts <service>`.
 * `--config-root DIR` is for tests only (reads DIR/wwwroot/go/... instead of /wwwroot/go/...).
 * Exits 78 on a bad config file, 1 when it cannot start, 0 after a graceful SIGTERM.
 */
import { ConfigError, SERVICES, type ServiceName } from './config.ts';
import { logger } from './service.ts';
import { startStandIn } from './standins.ts';

const STOP_GRACE_MS = 5000;

async function main(argv: string[]): Promise<void> {
  const service = argv[0] as ServiceName;
  if (!SERVICES.includes(service)) {
    process.stderr.write(`usage: main.ts <${SERVICES.join('|')}> [--config-root DIR]\n`);
    process.exit(2);
  }
  const rootAt = argv.indexOf('--config-root');
  const root = rootAt > 0 ? argv[rootAt + 1] : '/';
  if (!root) {
    process.stderr.write('--config-root needs a folder\n');
    process.exit(2);
  }
  const log = logger(service);
  let standIn;
  try {
    standIn = await startStandIn(service, root, log);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${service}: bad config: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    process.stderr.write(`${service}: cannot start: ${(error as Error).message}\n`);
    process.exit(1);
  }
  const running = standIn;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    setTimeout(() => {
      log('stop took too long, exiting');
      process.exit(1);
    }, STOP_GRACE_MS).unref();
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log(`stop failed: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

await main(process.argv.slice(2));
