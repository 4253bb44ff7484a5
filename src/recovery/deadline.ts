/**
 * A step's time limit. The step's context gets a signal that aborts at the deadline (or
 * when the whole run is cancelled), and every call the engine makes on the step's actions
 * is raced against it, so a hung SSH command cannot hold a recovery forever. An action
 * that ignores the signal may still finish in the background; the run has stopped by then
 * and a resume verifies before it applies.
 */
export class StepTimeoutError extends Error {
  override name = 'StepTimeoutError';
  readonly code = 'timeout';
  constructor(readonly timeoutMs: number) {
    super(`did not finish within ${timeoutMs} ms`);
  }
}

export class Deadline {
  private readonly controller = new AbortController();
  private readonly expired: Promise<never>;
  private timer: NodeJS.Timeout | undefined;
  private readonly onParentAbort = () => this.controller.abort(this.parent?.reason);

  constructor(
    readonly timeoutMs: number | undefined,
    private readonly parent?: AbortSignal,
  ) {
    this.expired = new Promise<never>((_resolve, reject) => {
      if (timeoutMs !== undefined) {
        this.timer = setTimeout(() => {
          const error = new StepTimeoutError(timeoutMs);
          this.controller.abort(error);
          reject(error);
        }, timeoutMs);
      }
    });
    // Nobody may be racing at the moment it fires; the rejection is still observed by `run`.
    this.expired.catch(() => {});
    if (parent?.aborted) this.controller.abort(parent.reason);
    else parent?.addEventListener('abort', this.onParentAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Resolves like `work`, or rejects with StepTimeoutError when the deadline passes first. */
  run<T>(work: Promise<T>): Promise<T> {
    return this.timeoutMs === undefined ? work : Promise.race([work, this.expired]);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.parent?.removeEventListener('abort', this.onParentAbort);
  }
}
