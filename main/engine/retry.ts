// When to try again, as a pure function: no clock, no network, so every rule
// is unit-tested on its own.
import { CancelError, VmCacheError } from './errors.js';
import { sleep } from './waits.js';

export interface RetryPolicy {
  /** Extra attempts after the first. 0 = fail on the first error. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is capped (a server asking for an hour is not obeyed). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 0,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
};

/**
 * Milliseconds to wait before the next attempt, or undefined to give up.
 * `attempt` is the 1-based number of the attempt that just failed.
 * Only transient errors are retried: network errors, timeouts, stalls, 408,
 * 429 and 5xx. Never: other 4xx, sha256 mismatch, unsafe key, disk full, abort.
 */
export function retryDelay(
  error: unknown,
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number | undefined {
  if (attempt > policy.retries) return undefined;
  if (!(error instanceof VmCacheError) || !error.transient) return undefined;
  if (error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, policy.maxRetryAfterMs);
  // Capped exponential backoff with "equal jitter": at least half the step,
  // so retries never bunch up at zero, and a random other half, so many
  // clients behind one outage do not come back in lockstep.
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

export interface RetryOptions<T> {
  /** Cancels the waits (and the attempts, through their own use of it). */
  signal?: AbortSignal | undefined;
  /** The first attempt when it is already under way (the manifest request goes out synchronously). */
  first?: Promise<T>;
  /** What the policy judges: anything thrown turned into a coded error. Default: as thrown. */
  coded?: (err: unknown) => unknown;
  /** Called before the wait for another attempt, with the error and that attempt's number. */
  onRetry?: (err: unknown, nextAttempt: number) => void;
}

/**
 * The engine's one retry loop: runs `attempt(n)` (1-based) until it succeeds,
 * or the policy gives up (then the last coded error is thrown), or `signal`
 * aborts (then a CancelError).
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  policy: RetryPolicy,
  options: RetryOptions<T> = {},
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await (n === 1 && options.first ? options.first : attempt(n));
    } catch (err) {
      const coded = options.coded ? options.coded(err) : err;
      // Cancelled meanwhile: whatever this attempt died of, the answer is the cancel.
      if (options.signal?.aborted) throw coded instanceof CancelError ? coded : new CancelError();
      const delay = retryDelay(coded, n, policy);
      if (delay === undefined) throw coded;
      options.onRetry?.(coded, n + 1);
      await sleep(delay, options.signal);
    }
  }
}
