// The one table that turns a failure's stable `code` into the process exit
// code. `vm-cache --help` and docs/cli.md print it; scripts branch on it.
import type { ErrorCode } from '../contract/index.js';

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  network: 3,
  integrity: 4,
  diskFull: 5,
  cancelled: 130,
} as const;

/** Failures the CLI itself reports (the engine's codes are in contract/errors.ts). */
export type CliErrorCode =
  /** Bad flags or arguments. */
  | 'ERR_USAGE'
  /** manifest build found no usable tarballs, or conflicting ones. */
  | 'ERR_BUILD_INPUT'
  /** verify found a missing or corrupt tarball. */
  | 'ERR_CACHE_DAMAGED'
  /** verify found no cached manifest. */
  | 'ERR_NO_CACHE';

export type AnyErrorCode = ErrorCode | CliErrorCode;

export const EXIT_CODE_BY_ERROR: Record<AnyErrorCode, number> = {
  ERR_USAGE: EXIT.usage,

  ERR_MANIFEST_FETCH: EXIT.network,
  ERR_NETWORK: EXIT.network,
  ERR_TIMEOUT: EXIT.network,
  ERR_STALLED: EXIT.network,
  ERR_DOWNLOAD_HTTP: EXIT.network,

  ERR_SHA256_MISMATCH: EXIT.integrity,
  ERR_SIGNATURE: EXIT.integrity,
  ERR_ROLLBACK: EXIT.integrity,
  ERR_MANIFEST_EXPIRED: EXIT.integrity,
  ERR_MANIFEST_INVALID: EXIT.integrity,
  ERR_UNSAFE_KEY: EXIT.integrity,
  ERR_TAR_CORRUPT: EXIT.integrity,
  ERR_CACHE_DAMAGED: EXIT.integrity,

  ERR_DISK_FULL: EXIT.diskFull,

  ERR_ABORTED: EXIT.cancelled,

  ERR_UNSUPPORTED_ARCH: EXIT.failure,
  ERR_INSECURE_URL: EXIT.failure,
  ERR_IO: EXIT.failure,
  ERR_LOCK: EXIT.failure,
  ERR_CACHE_LAYOUT: EXIT.failure,
  ERR_INVALID_REQUEST: EXIT.failure,
  ERR_FORBIDDEN_SENDER: EXIT.failure,
  ERR_INTERNAL: EXIT.failure,
  ERR_IMPORT_SOURCE: EXIT.failure,
  ERR_BUILD_INPUT: EXIT.failure,
  ERR_NO_CACHE: EXIT.failure,
};

export function exitCodeFor(code: string | undefined): number {
  if (code !== undefined && Object.hasOwn(EXIT_CODE_BY_ERROR, code)) {
    return EXIT_CODE_BY_ERROR[code as AnyErrorCode];
  }
  return EXIT.failure;
}

/** The table as `vm-cache --help` prints it. */
export const EXIT_CODES_HELP = `Exit codes:
  0    success
  1    other failure (I/O, lock, a cache folder the engine did not create, unsupported arch, insecure URL, incomplete import)
  2    usage error (unknown command or flag, bad value)
  3    network failure (ERR_MANIFEST_FETCH, ERR_NETWORK, ERR_TIMEOUT, ERR_STALLED, ERR_DOWNLOAD_HTTP)
  4    integrity failure (ERR_SHA256_MISMATCH, ERR_SIGNATURE, ERR_ROLLBACK, ERR_MANIFEST_EXPIRED,
       ERR_MANIFEST_INVALID, ERR_UNSAFE_KEY, a corrupt .tar, verify found a damaged cache)
  5    disk full (ERR_DISK_FULL)
  130  cancelled (Ctrl-C); a partial download is kept and the next sync resumes it`;
