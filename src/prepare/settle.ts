/** Waiting for an effect that takes a moment to show (replication starting, a link coming up). */

/** Polls `probe` until it returns true or `withinMs` passed; bounded. */
export async function settle(probe: () => Promise<boolean>, withinMs: number, stepMs = 200): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() + stepMs > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
