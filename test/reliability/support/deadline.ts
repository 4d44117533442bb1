// "Never a hang": every operation under test gets a deadline far above its
// expected time. Past it the test records a hang (and aborts the operation so
// the suite moves on) instead of waiting for vitest's own timeout.

export type Settled<T> =
  | { ok: true; value: T; ms: number }
  | { ok: false; error: unknown; ms: number }
  | { hung: true; ms: number };

export async function settleWithin<T>(
  start: (signal: AbortSignal) => Promise<T>,
  deadlineMs: number,
): Promise<Settled<T>> {
  const controller = new AbortController();
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), deadlineMs);
  });
  const work = start(controller.signal).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const first = await Promise.race([work, hung]);
  clearTimeout(timer);
  if (first === 'hung') {
    controller.abort();
    // Give the aborted operation a moment to unwind, so its files are not torn from under the next case.
    await Promise.race([work, new Promise((r) => setTimeout(r, 5_000))]);
    return { hung: true, ms: ms() };
  }
  return { ...first, ms: ms() };
}

export function isHung<T>(s: Settled<T>): s is { hung: true; ms: number } {
  return 'hung' in s;
}
