// The backoff policy as a pure function, then retries against a real server
// answering 503/429 with Retry-After, 404, and corrupt bytes.
import { describe, expect, it } from 'vitest';
import {
  CancelError,
  DiskFullError,
  ensureVmCacheSynced,
  HttpStatusError,
  NetworkError,
  retryDelay,
  Sha256MismatchError,
  StalledError,
  UnsafeKeyError,
} from '../../main/engine/index.js';
import { DEFAULT_RETRY_POLICY, withRetries } from '../../main/engine/retry.js';
import { keyOf, oneArtifactServer, tempRoot } from '../helpers.js';

const policy = { ...DEFAULT_RETRY_POLICY, retries: 5 };
const transient = new NetworkError('https://x', new Error('reset'));

describe('retryDelay (pure policy)', () => {
  it('backs off exponentially with equal jitter, capped', () => {
    expect(retryDelay(transient, 1, policy, () => 0)).toBe(250);
    expect(retryDelay(transient, 1, policy, () => 1)).toBe(500);
    expect(retryDelay(transient, 2, policy, () => 1)).toBe(1000);
    expect(retryDelay(transient, 3, policy, () => 0.5)).toBe(1500);
    expect(retryDelay(transient, 5, { ...policy, maxDelayMs: 3000 }, () => 1)).toBe(3000);
    expect(retryDelay(transient, 5, { ...policy, maxDelayMs: 3000 }, () => 0)).toBe(1500);
  });

  it('stops after the configured number of retries', () => {
    expect(retryDelay(transient, 5, policy)).toBeTypeOf('number');
    expect(retryDelay(transient, 6, policy)).toBeUndefined();
    expect(retryDelay(transient, 1, { ...policy, retries: 0 })).toBeUndefined();
  });

  it('honours Retry-After, capped', () => {
    const e429 = new HttpStatusError('https://x', 429, 7000);
    expect(retryDelay(e429, 1, policy, () => 0)).toBe(7000);
    expect(retryDelay(new HttpStatusError('https://x', 503, 3_600_000), 1, policy)).toBe(
      policy.maxRetryAfterMs,
    );
  });

  it('retries transient failures only', () => {
    for (const status of [408, 429, 500, 502, 503, 504]) {
      expect(retryDelay(new HttpStatusError('u', status), 1, policy)).toBeTypeOf('number');
    }
    expect(retryDelay(new StalledError('u', 1000), 1, policy)).toBeTypeOf('number');
    for (const status of [400, 401, 403, 404, 410, 416]) {
      expect(retryDelay(new HttpStatusError('u', status), 1, policy)).toBeUndefined();
    }
    expect(retryDelay(new Sha256MismatchError('k', 'a', 'b'), 1, policy)).toBeUndefined();
    expect(retryDelay(new UnsafeKeyError('../x', 'traversal'), 1, policy)).toBeUndefined();
    expect(retryDelay(new DiskFullError('/d', 2, 1), 1, policy)).toBeUndefined();
    expect(retryDelay(new CancelError(), 1, policy)).toBeUndefined();
    expect(retryDelay(new Error('plain'), 1, policy)).toBeUndefined();
  });
});

describe('retries against a real server', () => {
  it('503 then 429 with Retry-After: waits as told, then succeeds', async () => {
    const s = await oneArtifactServer();
    const key = keyOf(s);
    s.setFault(key, { status: 503, retryAfter: '1', times: 1 });
    const started = Date.now();
    const attempts: number[] = [];
    const result = await ensureVmCacheSynced({
      root: await tempRoot(),
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      retries: 3,
      onProgress: (p) => attempts.push(p.attempt),
    });
    expect(result.downloaded).toEqual([key]);
    // Retry-After: 1 is honoured (the default backoff would have waited at most 0.5 s).
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(Math.max(...attempts)).toBe(2);
    expect(s.requests.filter((r) => r.path === key).map((r) => r.status)).toEqual([503, 200]);
  });

  it('a 503 storm on the manifest is retried too', async () => {
    const s = await oneArtifactServer();
    s.setFault('vm/manifest.json', { status: 503, times: 3 });
    const result = await ensureVmCacheSynced({
      root: await tempRoot(),
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      retries: 3,
      retryPolicy: { baseDelayMs: 20 },
    });
    expect(result.downloaded).toHaveLength(1);
    expect(s.requests.filter((r) => r.path === 'vm/manifest.json')).toHaveLength(4);
  });

  it('never retries a 404, a sha256 mismatch or an exhausted budget', async () => {
    const s = await oneArtifactServer();
    const key = keyOf(s);
    const o = {
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      retries: 4,
      retryPolicy: { baseDelayMs: 10 },
    };
    s.setFault(key, { status: 404 });
    await expect(ensureVmCacheSynced({ ...o, root: await tempRoot() })).rejects.toMatchObject({
      code: 'ERR_DOWNLOAD_HTTP',
      status: 404,
    });
    expect(s.requests.filter((r) => r.path === key)).toHaveLength(1);

    s.setFault(key, { corruptByteAt: 10 });
    await expect(ensureVmCacheSynced({ ...o, root: await tempRoot() })).rejects.toThrow(/sha256 mismatch/);
    expect(s.requests.filter((r) => r.path === key)).toHaveLength(2);

    s.setFault(key, { status: 500 });
    await expect(ensureVmCacheSynced({ ...o, root: await tempRoot() })).rejects.toMatchObject({
      status: 500,
    });
    expect(s.requests.filter((r) => r.path === key)).toHaveLength(2 + 5);
  });

  it('a redirect loop fails once with its own words, not retried', async () => {
    const s = await oneArtifactServer();
    const key = keyOf(s);
    s.setFault(key, { redirectLoop: true });
    await expect(
      ensureVmCacheSynced({
        root: await tempRoot(),
        manifestUrl: s.manifestUrl,
        rawHostArch: 'x64',
        retries: 3,
      }),
    ).rejects.toMatchObject({
      code: 'ERR_NETWORK',
      transient: false,
      message: expect.stringContaining('too many redirects'),
    });
    // got follows 10 redirects, then gives up: 11 requests, and no second round.
    expect(s.requests.filter((r) => r.path === key)).toHaveLength(11);
  });
});

describe('withRetries: the one retry loop', () => {
  const policy = { retries: 3, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 10 };
  const transient = () => new NetworkError('http://x/', new Error('reset'));

  it('retries transient errors up to the policy, then throws the last; a permanent one at once', async () => {
    const seen: number[] = [];
    const retried: number[] = [];
    await expect(
      withRetries(
        async (n) => {
          seen.push(n);
          throw transient();
        },
        policy,
        { onRetry: (_err, next) => retried.push(next) },
      ),
    ).rejects.toMatchObject({ code: 'ERR_NETWORK' });
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(retried).toEqual([2, 3, 4]);
    let calls = 0;
    await expect(
      withRetries(async () => {
        calls++;
        throw new HttpStatusError('http://x/', 404);
      }, policy),
    ).rejects.toMatchObject({ code: 'ERR_DOWNLOAD_HTTP' });
    expect(calls).toBe(1);
  });

  it('uses an attempt already under way as the first, codes what is thrown, and a cancel wins', async () => {
    const first = Promise.reject(transient());
    first.catch(() => {});
    expect(await withRetries(async (n) => `attempt ${n}`, policy, { first })).toBe('attempt 2');
    await expect(
      withRetries(
        async () => {
          throw new Error('plain');
        },
        policy,
        { coded: () => new HttpStatusError('http://x/', 403) },
      ),
    ).rejects.toMatchObject({ status: 403 });
    const abort = new AbortController();
    await expect(
      withRetries(
        async () => {
          abort.abort();
          throw transient();
        },
        policy,
        { signal: abort.signal },
      ),
    ).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });
});
