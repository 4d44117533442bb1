// The hostile and broken servers, one case each: which knob of the artifact
// server misbehaves, the engine options a real caller would use, and how the
// sync must end: success, or one clear error code.
import type { ErrorCode } from '../../../contract/errors.js';
import type { VmCacheOptions } from '../../../main/engine/index.js';
import type { Fault } from '../../../server/index.js';

export interface CaseContext {
  /** The tarball key of the version being synced. */
  key: string;
  manifestKey: string;
  size: number;
  random: () => number;
  /** The artifact's true bytes. */
  content: () => Buffer;
}

export interface Observed {
  ms: number;
  /** Requests to the tarball during the hostile sync. */
  tarballRequests: Array<{ status: number; range?: string; bytesSent: number }>;
  manifestRequests: number;
  /** Tarball bytes the server sent during the hostile sync. */
  tarballBytes: number;
  manifestBytes: number;
  /** The largest receivedBytes a progress event reported. */
  maxReceived: number;
  message: string | undefined;
}

export interface HostileCase {
  name: string;
  /** Artifact size (default 1 MiB). */
  size?: number;
  /** The faults, by path. */
  faults(ctx: CaseContext): Array<{ path: string; fault: Fault }>;
  /** A second fault for the same path, set as soon as the first request has taken the first one. */
  afterFirst?(ctx: CaseContext): { path: string; fault: Fault };
  options?: Partial<VmCacheOptions>;
  expect: 'success' | ErrorCode;
  /** Extra checks; each string returned is a violation. */
  check?(ctx: CaseContext, seen: Observed): string[];
  /** Past this the case counts as a hang (default 45 s, above the engine's 30 s limits). */
  deadlineMs?: number;
}

const fast = { retryPolicy: { baseDelayMs: 20, maxDelayMs: 200 } } as const;
const at = (ctx: CaseContext, fraction: number) => Math.floor(ctx.size * fraction);
const between = (ctx: CaseContext, lo: number, hi: number) =>
  Math.floor(ctx.size * (lo + ctx.random() * (hi - lo)));
const maxBytes = (limit: number, what: string) => (_: CaseContext, seen: Observed) =>
  seen.tarballBytes <= limit ? [] : [`${what}: ${seen.tarballBytes} tarball bytes served, limit ${limit}`];

export const HOSTILE_CASES: HostileCase[] = [
  {
    name: 'connection reset at random offsets, 3 times',
    faults: (c) => [{ path: c.key, fault: { resetAtByte: between(c, 0.05, 0.3), times: 3 } }],
    options: { retries: 5, ...fast },
    expect: 'success',
    // Each attempt resumes where the last stopped: about one artifact in all.
    check: (c, seen) => maxBytes(Math.floor(c.size * 1.1), 'resume across resets')(c, seen),
  },
  {
    name: 'connection reset before the first byte, twice',
    faults: (c) => [{ path: c.key, fault: { resetAtByte: 0, times: 2 } }],
    options: { retries: 3, ...fast },
    expect: 'success',
  },
  {
    name: 'connection reset on every attempt',
    faults: (c) => [{ path: c.key, fault: { resetAtByte: at(c, 0.1) } }],
    options: { retries: 3, ...fast },
    expect: 'ERR_NETWORK',
    // Even failing, each attempt kept what it got: 4 attempts moved 40 %.
    check: (_, seen) =>
      seen.tarballRequests.length === 4 ? [] : [`expected 4 attempts, saw ${seen.tarballRequests.length}`],
  },
  {
    name: 'manifest connection reset mid-body, once',
    faults: (c) => [{ path: c.manifestKey, fault: { resetAtByte: 40, times: 1 } }],
    options: { retries: 2, ...fast },
    expect: 'success',
  },
  {
    name: 'manifest connection reset on every attempt',
    faults: (c) => [{ path: c.manifestKey, fault: { resetAtByte: 40 } }],
    options: { retries: 2, ...fast },
    expect: 'ERR_MANIFEST_FETCH',
  },
  {
    name: 'stall mid-body, twice',
    faults: (c) => [{ path: c.key, fault: { stallAtByte: between(c, 0.2, 0.6), times: 2 } }],
    options: { retries: 3, stallTimeoutMs: 500, ...fast },
    expect: 'success',
    check: (c, seen) => maxBytes(Math.floor(c.size * 1.1), 'resume across stalls')(c, seen),
  },
  {
    name: 'stall on every attempt',
    // stallAtByte counts the bytes of each response: two attempts move 2 x 20 %.
    faults: (c) => [{ path: c.key, fault: { stallAtByte: at(c, 0.2) } }],
    options: { retries: 1, stallTimeoutMs: 500, ...fast },
    expect: 'ERR_STALLED',
  },
  {
    name: 'manifest headers sent, body stalls',
    // At byte 0 the server would not even flush the headers (that is the next case): stall after a few bytes.
    faults: (c) => [{ path: c.manifestKey, fault: { stallAtByte: 10 } }],
    options: { retries: 1, stallTimeoutMs: 500, ...fast },
    expect: 'ERR_MANIFEST_FETCH',
  },
  {
    name: 'tarball headers never come',
    faults: (c) => [{ path: c.key, fault: { delayMs: 60_000 } }],
    options: { retries: 1, timeoutMs: 600, ...fast },
    expect: 'ERR_TIMEOUT',
  },
  {
    name: 'manifest headers never come',
    faults: (c) => [{ path: c.manifestKey, fault: { delayMs: 60_000 } }],
    options: { retries: 0, timeoutMs: 600 },
    expect: 'ERR_MANIFEST_FETCH',
  },
  {
    name: 'slow drip, 1 KB/s on a 3 KB artifact',
    size: 3 * 1024,
    faults: (c) => [{ path: c.key, fault: { dripBytesPerSec: 1024 } }],
    // A slow but live server is not a stall, even with a short stall timeout.
    options: { stallTimeoutMs: 1_500 },
    expect: 'success',
    check: (_, seen) => (seen.ms >= 2_000 ? [] : [`the drip took only ${seen.ms} ms`]),
  },
  {
    name: '503 storm, 6 in a row',
    faults: (c) => [{ path: c.key, fault: { status: 503, times: 6 } }],
    options: { retries: 8, ...fast },
    expect: 'success',
  },
  {
    name: '429 storm with Retry-After: 1, 3 in a row',
    faults: (c) => [{ path: c.key, fault: { status: 429, retryAfter: '1', times: 3 } }],
    options: { retries: 5, ...fast },
    expect: 'success',
    // Retry-After is obeyed: three waits of a second, not the 20 ms backoff.
    check: (_, seen) => (seen.ms >= 2_900 ? [] : [`Retry-After ignored: done in ${seen.ms} ms`]),
  },
  {
    name: '503 storm that never ends (Retry-After: 0)',
    faults: (c) => [{ path: c.key, fault: { status: 503, retryAfter: '0' } }],
    options: { retries: 4, ...fast },
    expect: 'ERR_DOWNLOAD_HTTP',
    check: (_, seen) =>
      seen.tarballRequests.length === 5 ? [] : [`expected 5 attempts, saw ${seen.tarballRequests.length}`],
  },
  {
    name: 'manifest 503 storm with Retry-After: 0, 4 in a row',
    faults: (c) => [{ path: c.manifestKey, fault: { status: 503, retryAfter: '0', times: 4 } }],
    options: { retries: 5, ...fast },
    expect: 'success',
  },
  {
    name: 'manifest 429 storm that never ends',
    faults: (c) => [{ path: c.manifestKey, fault: { status: 429, retryAfter: '0' } }],
    options: { retries: 3, ...fast },
    expect: 'ERR_MANIFEST_FETCH',
  },
  {
    name: 'tarball 404',
    faults: (c) => [{ path: c.key, fault: { status: 404 } }],
    options: { retries: 5, ...fast },
    expect: 'ERR_DOWNLOAD_HTTP',
    // Not transient: one request, no retry.
    check: (_, seen) =>
      seen.tarballRequests.length === 1 ? [] : [`a 404 was retried ${seen.tarballRequests.length - 1} times`],
  },
  {
    name: 'a wrong byte in the middle',
    faults: (c) => [{ path: c.key, fault: { corruptByteAt: at(c, 0.5) } }],
    options: { retries: 5, ...fast },
    expect: 'ERR_SHA256_MISMATCH',
    check: (_, seen) =>
      seen.tarballRequests.length === 1
        ? []
        : [`a sha256 mismatch was retried ${seen.tarballRequests.length - 1} times`],
  },
  {
    name: 'a wrong byte in the part fetched after a reset',
    faults: (c) => [{ path: c.key, fault: { resetAtByte: at(c, 0.3), corruptByteAt: at(c, 0.8), times: 1 } }],
    options: { retries: 3, ...fast },
    // The first response is cut before the bad byte; the resume is clean: success.
    expect: 'success',
  },
  {
    name: 'a body cut short that ends cleanly',
    faults: (c) => [{ path: c.key, fault: { body: c.content().subarray(0, at(c, 0.5)) } }],
    options: { retries: 5, ...fast },
    // Whatever its length, a clean end with the wrong bytes is a mismatch, not a resume point.
    expect: 'ERR_SHA256_MISMATCH',
  },
  {
    name: 'more bytes than declared',
    faults: (c) => [{ path: c.key, fault: { extraBytes: 64 * 1024 } }],
    options: { retries: 5, ...fast },
    expect: 'ERR_SHA256_MISMATCH',
    check: (c, seen) =>
      seen.maxReceived <= c.size
        ? []
        : [`${seen.maxReceived} bytes received, more than the ${c.size} declared`],
  },
  {
    name: 'Range ignored after a reset',
    faults: (c) => [{ path: c.key, fault: { resetAtByte: at(c, 0.4), times: 1 } }],
    afterFirst: (c) => ({ path: c.key, fault: { ignoreRange: true } }),
    options: { retries: 3, ...fast },
    expect: 'success',
    // The 200 answer to the Range request restarts from zero, and still ends verified.
    check: (c, seen) =>
      seen.tarballBytes === at(c, 0.4) + c.size
        ? []
        : [`expected ${at(c, 0.4) + c.size} tarball bytes, saw ${JSON.stringify(seen.tarballRequests)}`],
  },
  {
    name: 'ETag changes between attempts',
    faults: (c) => [{ path: c.key, fault: { resetAtByte: at(c, 0.4), changeEtag: true, times: 1 } }],
    options: { retries: 3, ...fast },
    expect: 'success',
    // The kept 40 % belong to another file: the second attempt starts over.
    check: (c, seen) => {
      const last = seen.tarballRequests.at(-1);
      return last?.status === 200 && seen.tarballBytes === at(c, 0.4) + c.size
        ? []
        : [`expected a full restart after the ETag change, saw ${JSON.stringify(seen.tarballRequests)}`];
    },
  },
  {
    name: 'redirect loop on the tarball',
    faults: (c) => [{ path: c.key, fault: { redirectLoop: true } }],
    options: { retries: 5, ...fast },
    expect: 'ERR_NETWORK',
    // A loop is configuration, not weather: one attempt's worth of redirects, not six.
    check: (_, seen) =>
      seen.tarballRequests.length <= 25 && /redirect/i.test(seen.message ?? '')
        ? []
        : [`${seen.tarballRequests.length} requests; message: ${seen.message}`],
  },
  {
    name: 'redirect loop on the manifest',
    faults: (c) => [{ path: c.manifestKey, fault: { redirectLoop: true } }],
    options: { retries: 5, ...fast },
    expect: 'ERR_MANIFEST_FETCH',
  },
  {
    name: 'manifest that is invalid JSON',
    faults: (c) => [{ path: c.manifestKey, fault: { body: '{"schemaVersion": 2, "agents": {"openclaw": ' } }],
    options: { retries: 5, ...fast },
    expect: 'ERR_MANIFEST_INVALID',
  },
  {
    name: 'manifest of 50 MB',
    // Paced (at 1 GB/s) only so the server writes 64 KiB pieces and its byte count
    // stops when the client hangs up; a 50 MB single write would count in full.
    faults: (c) => [{ path: c.manifestKey, fault: { body: hugeManifest(), dripBytesPerSec: 1e9 } }],
    options: { retries: 5, ...fast },
    expect: 'ERR_MANIFEST_INVALID',
    // Refused on its Content-Length: far less than 50 MB crosses the wire.
    check: (_, seen) =>
      seen.manifestBytes < 17 * 1024 * 1024
        ? []
        : [`${seen.manifestBytes} manifest bytes were sent before the refusal`],
  },
];

let huge: Buffer | undefined;
/** 50 MB that starts like a manifest: a JSON object with one enormous field. */
function hugeManifest(): Buffer {
  huge ??= Buffer.concat([
    Buffer.from('{"schemaVersion":2,"updatedAt":"2026-04-24T00:00:00.000Z","agents":{},"padding":"'),
    Buffer.alloc(50_000_000, 0x61),
    Buffer.from('"}\n'),
  ]);
  return huge;
}
