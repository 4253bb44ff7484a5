/**
 * The probe scheduler: thousands of small checks (a TCP connect, an HTTP GET through a domain)
 * on one event loop, each at its own interval. One timer for the earliest due probe, a heap of
 * due times, no thread or timer per probe. Three rules keep a busy or dying machine from
 * distorting the picture:
 * - jitter: each probe's first run is spread over its interval and every next due time moves
 *   by up to ±`jitter` of it, so probes of one machine do not arrive in lock-step;
 * - a concurrency limit per target machine (`group`): probes over it wait in a queue for a
 *   slot, so watching never floods a machine that is already struggling;
 * - no pile-up: a probe still running when it is due again skips that turn (counted), it is
 *   never started twice at once.
 * Every probe gets its own time-out through an AbortSignal; a time-out is a result (`timeout`),
 * not an exception, because "did not answer in time" is evidence, and so is "refused".
 */

export interface ProbeTarget<R> {
  /** Unique among the scheduler's targets. */
  id: string;
  /** The machine the probe loads: the concurrency limit applies per group. */
  group: string;
  intervalMs: number;
  timeoutMs: number;
  /** Resolves with what it saw; rejects when it could not tell. Must stop when `signal` aborts. */
  check(signal: AbortSignal): Promise<R>;
}

export type ProbeOutcome<R> =
  | { state: 'ok'; value: R }
  | { state: 'timeout' }
  | { state: 'error'; error: string };

export interface ProbeResult<R> {
  id: string;
  group: string;
  /** When it was due and when it started (ms, the scheduler's clock): the difference is the lag. */
  dueAt: number;
  startedAt: number;
  ms: number;
  outcome: ProbeOutcome<R>;
}

export interface SchedulerOptions<R> {
  /** Fraction of the interval (0–0.5) by which each due time moves at random. */
  jitter?: number;
  /** Probes running at once against one group. */
  perGroup?: number;
  onResult(result: ProbeResult<R>): void;
  now?: () => number;
  random?: () => number;
}

interface Entry<R> {
  target: ProbeTarget<R>;
  due: number;
  running: boolean;
  removed: boolean;
  /** When a probe waiting for a slot of its group was due: its lag counts from then. */
  queuedDue?: number;
}

export interface SchedulerStats {
  started: number;
  /** Turns skipped because the previous run of the same probe had not finished. */
  skipped: number;
  running: number;
  queued: number;
}

export class ProbeScheduler<R> {
  private readonly entries = new Map<string, Entry<R>>();
  private readonly heap: Entry<R>[] = [];
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, Entry<R>[]>();
  private readonly jitter: number;
  private readonly perGroup: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private active = false;
  private readonly counts = { started: 0, skipped: 0 };

  constructor(private readonly o: SchedulerOptions<R>) {
    this.jitter = o.jitter ?? 0.1;
    this.perGroup = o.perGroup ?? 4;
    this.now = o.now ?? (() => performance.now());
    this.random = o.random ?? Math.random;
    if (!(this.jitter >= 0 && this.jitter <= 0.5)) throw new RangeError(`jitter must be within 0–0.5, got ${this.jitter}`);
    if (!Number.isInteger(this.perGroup) || this.perGroup < 1) throw new RangeError(`perGroup must be a positive integer, got ${this.perGroup}`);
  }

  /** Adds a target; its first run falls at random within its first interval. */
  add(target: ProbeTarget<R>): void {
    if (this.entries.has(target.id)) throw new Error(`probe ${target.id} is already scheduled`);
    if (!(target.intervalMs > 0) || !(target.timeoutMs > 0)) throw new RangeError(`probe ${target.id}: interval and time-out must be positive`);
    const entry: Entry<R> = { target, due: this.now() + this.random() * target.intervalMs, running: false, removed: false };
    this.entries.set(target.id, entry);
    this.push(entry);
    this.arm();
  }

  remove(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.removed = true;
    this.entries.delete(id);
  }

  start(): void {
    this.active = true;
    this.arm();
  }

  /** No new probe starts; those running finish on their own time-out. */
  stop(): void {
    this.active = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  stats(): SchedulerStats {
    let queued = 0;
    for (const q of this.waiting.values()) queued += q.length;
    let running = 0;
    for (const n of this.running.values()) running += n;
    return { ...this.counts, running, queued };
  }

  private arm(): void {
    if (!this.active) return;
    const next = this.heap[0];
    if (!next) return;
    if (next.due >= this.timerAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next.due;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next.due - this.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.now();
    while (this.heap.length > 0 && this.heap[0]!.due <= now) {
      const entry = this.pop()!;
      if (entry.removed) continue;
      const due = entry.due;
      entry.due = this.nextDue(entry);
      this.push(entry);
      if (entry.running) {
        this.counts.skipped++;
        continue;
      }
      this.admit(entry, due);
    }
    this.arm();
  }

  private nextDue(entry: Entry<R>): number {
    const interval = entry.target.intervalMs;
    const due = entry.due + interval * (1 + this.jitter * (2 * this.random() - 1));
    // A loop that fell far behind (a blocked event loop) starts again from now instead of
    // firing every missed turn at once.
    return Math.max(due, this.now() - interval);
  }

  private admit(entry: Entry<R>, dueAt: number): void {
    const group = entry.target.group;
    entry.running = true;
    if ((this.running.get(group) ?? 0) >= this.perGroup) {
      const queue = this.waiting.get(group) ?? [];
      queue.push(entry);
      this.waiting.set(group, queue);
      entry.queuedDue = dueAt;
      return;
    }
    void this.runOne(entry, dueAt);
  }

  private async runOne(entry: Entry<R>, dueAt: number): Promise<void> {
    const { target } = entry;
    this.running.set(target.group, (this.running.get(target.group) ?? 0) + 1);
    this.counts.started++;
    const startedAt = this.now();
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), target.timeoutMs);
    let outcome: ProbeOutcome<R>;
    try {
      const value = await Promise.race([
        target.check(abort.signal),
        new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(TIMED_OUT), { once: true })),
      ]);
      outcome = { state: 'ok', value };
    } catch (error) {
      outcome = error === TIMED_OUT || abort.signal.aborted ? { state: 'timeout' } : { state: 'error', error: (error as Error)?.message ?? String(error) };
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
    entry.running = false;
    const left = (this.running.get(target.group) ?? 1) - 1;
    if (left > 0) this.running.set(target.group, left);
    else this.running.delete(target.group);
    this.next(target.group);
    if (!entry.removed) {
      try {
        this.o.onResult({ id: target.id, group: target.group, dueAt, startedAt, ms: this.now() - startedAt, outcome });
      } catch {
        // A consumer's bug must not stop the scheduler; the consumer reports its own errors.
      }
    }
  }

  /** A slot of `group` came free: the longest-waiting probe of that group runs. */
  private next(group: string): void {
    const queue = this.waiting.get(group);
    if (!queue) return;
    let entry: Entry<R> | undefined;
    while ((entry = queue.shift()) && entry.removed) entry.running = false;
    if (queue.length === 0) this.waiting.delete(group);
    if (entry && !entry.removed && this.active) void this.runOne(entry, entry.queuedDue ?? this.now());
    else if (entry) entry.running = false;
  }

  // A binary min-heap on `due`: the scheduler's only data structure that grows with targets.
  private push(entry: Entry<R>): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.due <= h[i]!.due) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  private pop(): Entry<R> | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.due < h[m]!.due) m = l;
        if (r < h.length && h[r]!.due < h[m]!.due) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}

const TIMED_OUT = Symbol('timed out');
