/** Polls a condition on the event loop (no fixed sleep), bounded by a timeout. */
export async function until(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Polls until `fn` returns something other than undefined, and returns it; bounded like until(). */
export async function untilValue<T>(fn: () => T | undefined, timeoutMs = 10_000, what = 'value'): Promise<T> {
  let value: T | undefined;
  await until(() => (value = fn()) !== undefined, timeoutMs, what);
  return value as T;
}
