/**
 * Entry point of every stand-in:
 *   node standins.mjs --spec FILE          the generic stand-in for any service (generic-spec.ts)
 *   node standins.mjs <variant> [--config-root DIR]   one of the seed's richer variants
 * `--config-root DIR` is for tests only (reads DIR/wwwroot/go/... instead of /wwwroot/go/...).
 * Exits 78 on a bad config file, 1 when it cannot start, 0 after a graceful SIGTERM.
 */
import { ConfigError, SERVICES, type ServiceName } from './config.ts';
import { logger } from './service.ts';
import { startGenericStandIn, startStandIn } from './standins.ts';
import type { StandIn } from './service.ts';

const STOP_GRACE_MS = 5000;
const USAGE = `usage: main.ts --spec FILE | main.ts <${SERVICES.join('|')}> [--config-root DIR]\n`;

function option(argv: string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  if (at < 0) return undefined;
  const value = argv[at + 1];
  if (!value) {
    process.stderr.write(`${name} needs a value\n${USAGE}`);
    process.exit(2);
  }
  return value;
}

async function main(argv: string[]): Promise<void> {
  const specFile = option(argv, '--spec');
  const variant = argv[0] as ServiceName;
  if (!specFile && !SERVICES.includes(variant)) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  // The spec's file name carries the service's name (generic-spec.ts `genericSpecFile`).
  const name = specFile ? /\.lifeboat-lab-([a-z0-9-]+)\.json$/.exec(specFile)?.[1] ?? 'stand-in' : variant;
  const log = logger(name);
  let standIn: StandIn;
  try {
    if (specFile) {
      standIn = await startGenericStandIn(specFile, log);
    } else {
      standIn = await startStandIn(variant, option(argv, '--config-root') ?? '/', log);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${name}: bad config: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    process.stderr.write(`${name}: cannot start: ${(error as Error).message}\n`);
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
