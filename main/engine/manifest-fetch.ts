// Fetching the manifest: the first request goes out synchronously (the engine
// contract relies on it), later attempts follow the retry policy, and the body
// is capped so a hostile 50 MB "manifest" cannot eat memory.
import { CancelError, ManifestFetchError, ManifestInvalidError, type VmCacheError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import type { ProgressTracker } from './progress.js';
import { parseRetryAfter, startRequest, watchStall } from './request.js';
import { withRetries } from './retry.js';

/**
 * One attempt; the request is issued before this returns. `maxBytes` caps the
 * body (default: the manifest cap); a small document such as the `.sig` passes
 * its own, so a hostile answer is refused after a few KiB, not 16 MiB.
 */
export function fetchManifestOnce(
  opts: ResolvedOptions,
  url: string = opts.manifestUrl,
  maxBytes: number = opts.maxManifestBytes,
): Promise<Buffer> {
  const { request, response } = startRequest(opts.transport, url, {
    signal: opts.signal,
    timeoutMs: opts.timeoutMs,
    headers: { accept: 'application/json' },
    allowInsecureHttp: opts.allowInsecureHttp,
  });
  // The whole manifest, not only its headers, must arrive within timeoutMs.
  const deadline = setTimeout(
    () =>
      request.abort(
        new ManifestFetchError(`manifest fetch failed: ${url} did not answer within ${opts.timeoutMs} ms`, {
          transient: true,
        }),
      ),
    opts.timeoutMs,
  );
  return (async () => {
    let res: Awaited<typeof response> | undefined;
    try {
      res = await response;
      if (res.status < 200 || res.status > 299) {
        const transient = res.status === 408 || res.status === 429 || res.status >= 500;
        const retryAfterMs = parseRetryAfter(res.header('retry-after'));
        throw new ManifestFetchError(`manifest fetch failed: ${url} answered HTTP ${res.status}`, {
          status: res.status,
          transient,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        });
      }
      const declared = Number(res.header('content-length'));
      if (declared > maxBytes) throw tooLarge(url, maxBytes);
      const chunks: Uint8Array[] = [];
      let size = 0;
      const stall = watchStall(request, opts.stallTimeoutMs, () => {});
      try {
        for await (const chunk of res.body) {
          stall.tick();
          size += chunk.length;
          if (size > maxBytes) throw tooLarge(url, maxBytes);
          chunks.push(chunk);
        }
      } finally {
        stall.stop();
      }
      return Buffer.concat(chunks);
    } catch (err) {
      throw asManifestError(request.errorFor(err));
    } finally {
      clearTimeout(deadline);
      res?.cancel();
      request.done();
    }
  })();
}

function tooLarge(url: string, max: number): ManifestInvalidError {
  return new ManifestInvalidError(
    `refusing ${url}: it is larger than ${max} bytes, the most accepted for it; the cache was left as it was`,
  );
}

function asManifestError(err: VmCacheError): VmCacheError {
  if (err instanceof ManifestFetchError || err instanceof ManifestInvalidError || err instanceof CancelError)
    return err;
  if (err.code === 'ERR_SIGNATURE' || err.code === 'ERR_INSECURE_URL') return err;
  return new ManifestFetchError(`manifest fetch failed: ${err.message}`, {
    cause: err,
    transient: err.transient,
    ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
  });
}

/** The first attempt is already under way; retries follow the policy. */
export async function fetchManifestWithRetries(
  opts: ResolvedOptions,
  first: Promise<Buffer>,
  progress: ProgressTracker,
  once: () => Promise<Buffer> = () => fetchManifestOnce(opts),
): Promise<Buffer> {
  return withRetries(
    (attempt) => {
      progress.setAttempt(attempt);
      return once();
    },
    opts.retryPolicy,
    { signal: opts.signal, first },
  );
}
