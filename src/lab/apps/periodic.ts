/**
 * A run every `intervalMs` (measured start to start), one at a time, as a scheduler runs a
 * batch: the seed's go-job and any singleton of the generic stand-in. A run may `hold` like
 * a real batch does; stopping cuts the hold short and waits for the run in progress.
 */
export interface Periodic {
  /** The last run's failure, undefined after a run that succeeded. */
  lastError(): string | undefined;
  stop(): Promise<void>;
}

export function runEvery(intervalMs: number, run: (hold: (ms: number) => Promise<void>) => Promise<void>, log: (line: string) => void): Periodic {
  const stop = new AbortController();
  let lastError: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const hold = (ms: number) => new Promise<void>((resolve) => {
    if (ms <= 0 || stop.signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    stop.signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
  function tick(): void {
    const started = Date.now();
    current = run(hold).then(
      () => { lastError = undefined; },
      (error: unknown) => {
        lastError = (error as Error).message;
        log(`run failed: ${lastError}`);
      },
    ).finally(() => {
      if (!stop.signal.aborted) timer = setTimeout(tick, Math.max(0, intervalMs - (Date.now() - started)));
    });
  }
  tick();
  return {
    lastError: () => lastError,
    stop: async () => {
      stop.abort();
      clearTimeout(timer);
      await current;
    },
  };
}
