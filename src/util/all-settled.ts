/**
 * `Promise.all`, except that it rejects only once every promise has settled (with the first
 * failure, in order). Work started side by side then never outlives the caller's failure:
 * a command that reports a refusal and closes its SSH connections has no reading still using
 * them (one would open a new connection and keep the process alive).
 */
export async function allSettled<T extends readonly unknown[] | []>(values: T): Promise<{ -readonly [P in keyof T]: Awaited<T[P]> }> {
  const results = await Promise.allSettled(values);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [P in keyof T]: Awaited<T[P]> };
}
