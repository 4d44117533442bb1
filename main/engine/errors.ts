// Every failure the engine reports is one of these: a stable `code` for
// programs (UI words, CLI exit codes), a message a person can act on, and the
// underlying `cause` for logs.
import type { ErrorCode, ErrorDetail, ErrorInfo } from '../../contract/errors.js';
import { formatBytes } from '../../contract/format.js';

export { formatBytes };

export class VmCacheError extends Error {
  readonly code: ErrorCode;
  /** Worth another attempt (network trouble, 5xx, a stall); the retry policy reads it. */
  readonly transient: boolean;
  /** Seconds the server asked us to wait (Retry-After), when it said. */
  readonly retryAfterMs: number | undefined;
  /** The figures behind the message, for a page to word in its language (contract/errors.ts). */
  readonly detail: ErrorDetail | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; transient?: boolean; retryAfterMs?: number; detail?: ErrorDetail } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.transient = options.transient ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.detail = options.detail;
  }
}

/** What a progress event (and so a page) carries of an error: its code, message and figures. */
export function errorInfoOf(err: VmCacheError): ErrorInfo {
  return { code: err.code, message: err.message, ...(err.detail ? { detail: err.detail } : {}) };
}

export class ManifestFetchError extends VmCacheError {
  readonly status: number | undefined;
  constructor(
    message: string,
    options: { cause?: unknown; status?: number; transient?: boolean; retryAfterMs?: number } = {},
  ) {
    super('ERR_MANIFEST_FETCH', message, options);
    this.status = options.status;
  }
}

export class ManifestInvalidError extends VmCacheError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('ERR_MANIFEST_INVALID', message, options);
  }
}

export class UnsafeKeyError extends VmCacheError {
  readonly key: string;
  constructor(key: string, reason: string) {
    super(
      'ERR_UNSAFE_KEY',
      `unsafe key ${JSON.stringify(key.slice(0, 200))}: ${reason}; the manifest was refused and nothing was written`,
    );
    this.key = key;
  }
}

export class UnsupportedArchError extends VmCacheError {
  constructor(arch: string) {
    super('ERR_UNSUPPORTED_ARCH', `unsupported host arch: ${arch}`);
  }
}

export class InsecureUrlError extends VmCacheError {
  constructor(url: string) {
    super(
      'ERR_INSECURE_URL',
      `refusing insecure URL ${url}: use https, or pass allowInsecureHttp for a trusted network (http is allowed for loopback hosts only)`,
    );
  }
}

export class HttpStatusError extends VmCacheError {
  readonly status: number;
  constructor(url: string, status: number, retryAfterMs?: number) {
    const transient = status === 408 || status === 429 || status >= 500;
    super(
      'ERR_DOWNLOAD_HTTP',
      `download failed: ${url} answered HTTP ${status}${transient ? '; retry later' : '; check the manifest URL and the server'}`,
      { transient, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
    );
    this.status = status;
  }
}

export class NetworkError extends VmCacheError {
  constructor(url: string, cause: unknown) {
    const detail = describeCause(cause);
    // A redirect loop is the server's configuration, not a passing fault: retrying cannot help.
    const redirectLoop = /redirect/i.test(detail);
    super(
      'ERR_NETWORK',
      redirectLoop
        ? `too many redirects while fetching ${url} (${detail}); the server is misconfigured, tell the app's publisher`
        : `network error while fetching ${url}: ${detail}; check the connection and retry`,
      { cause, transient: !redirectLoop },
    );
  }
}

/** fetch wraps the useful part ("ECONNRESET", "redirect count exceeded") in `cause`. */
function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = cause.cause instanceof Error ? cause.cause.message : undefined;
  const code =
    (cause as NodeJS.ErrnoException).code ?? (cause.cause as NodeJS.ErrnoException | undefined)?.code;
  return [cause.message, inner, code].filter((p, i, all) => p && all.indexOf(p) === i).join(': ');
}

export class TimeoutError extends VmCacheError {
  constructor(url: string, ms: number) {
    super('ERR_TIMEOUT', `no answer from ${url} within ${ms} ms; check the connection and retry`, {
      transient: true,
    });
  }
}

export class StalledError extends VmCacheError {
  constructor(url: string, ms: number) {
    super('ERR_STALLED', `download stalled: no bytes from ${url} for ${ms} ms; it will resume on retry`, {
      transient: true,
    });
  }
}

export class Sha256MismatchError extends VmCacheError {
  /** `advice` says what to do; the default fits a download. */
  constructor(
    key: string,
    expected: string,
    detail: string,
    advice = 'the download was discarded, retry to fetch it again',
  ) {
    super('ERR_SHA256_MISMATCH', `sha256 mismatch for ${key}: expected ${expected}, ${detail}; ${advice}`);
  }
}

/** An import source (a folder or a .tar) that lacks a file the manifest needs, or cannot be read. */
export class ImportSourceError extends VmCacheError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('ERR_IMPORT_SOURCE', message, options);
  }
}

/** A .tar whose structure is broken (bad header checksum, cut short): refused like bad bytes. */
export class TarCorruptError extends VmCacheError {
  constructor(file: string, detail: string) {
    super(
      'ERR_TAR_CORRUPT',
      `${file} is not a readable tar archive (${detail}); nothing was imported, copy the archive again`,
    );
  }
}

export class SignatureError extends VmCacheError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('ERR_SIGNATURE', message, options);
  }
}

/** A validly signed (or unsigned) manifest older than the one this cache already trusts. */
export class RollbackError extends VmCacheError {
  constructor(message: string) {
    super('ERR_ROLLBACK', message);
  }
}

/** A manifest whose own `expiresAt` has passed: a frozen (replayed) snapshot is refused. */
export class ManifestExpiredError extends VmCacheError {
  constructor(message: string) {
    super('ERR_MANIFEST_EXPIRED', message);
  }
}

export class DiskFullError extends VmCacheError {
  readonly dir: string;
  readonly neededBytes: number | undefined;
  readonly freeBytes: number | undefined;
  constructor(dir: string, neededBytes?: number, freeBytes?: number, cause?: unknown) {
    const known = neededBytes !== undefined && freeBytes !== undefined;
    const figures = known
      ? `: ${formatBytes(neededBytes)} needed, ${formatBytes(freeBytes)} free`
      : ' while writing';
    super('ERR_DISK_FULL', `disk full at ${dir}${figures}; free some space and retry`, {
      cause,
      // Only the up-front check knows the figures; an ENOSPC mid-write has none to give.
      ...(known ? { detail: { kind: 'disk-space' as const, path: dir, neededBytes, freeBytes } } : {}),
    });
    this.dir = dir;
    this.neededBytes = neededBytes;
    this.freeBytes = freeBytes;
  }
}

export class IoError extends VmCacheError {
  constructor(what: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super('ERR_IO', `${what}: ${detail}; check the cache folder's permissions and free space`, { cause });
  }
}

export class LockError extends VmCacheError {
  constructor(message: string) {
    super('ERR_LOCK', message);
  }
}

/** The cache folder's layout is not ours to touch (a folder the engine did not create, a link where a file must be). */
export class CacheLayoutError extends VmCacheError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('ERR_CACHE_LAYOUT', message, options);
  }
}

/** Cancellation is not a failure of the download: its own class, never retried. */
export class CancelError extends VmCacheError {
  constructor(message = 'sync cancelled; the partial download is kept and the next sync resumes it') {
    super('ERR_ABORTED', message);
  }
}

/** Map a thrown fs error to what the user can do about it. */
export function fsError(what: string, dir: string, cause: unknown): VmCacheError {
  if (cause instanceof VmCacheError) return cause;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new DiskFullError(dir, undefined, undefined, cause);
  return new IoError(what, cause);
}
