// `<key>.partial` as the download and the import see it: bytes go in, in
// order, while their sha256 is computed, and at the end the file is fsynced
// (finish) or left for a resume (abandon). Two implementations run under the
// same tests: the worker thread (partial-writer.ts, the fast path, measured in
// docs/performance.md) and the plain one (plain-partial-writer.ts: hashing on
// the main thread, fs writes), the obvious reference the fast one is checked
// against, and a way out for a host that cannot run workers or is debugging.
import * as fsCb from 'node:fs';
import { promisify } from 'node:util';
import { O_NOFOLLOW, O_NONBLOCK } from './atomic.js';
import { CacheLayoutError } from './errors.js';

export interface PartialFile {
  /**
   * Queues a chunk. Returns nothing when it was taken at once, else a promise
   * to wait for before the next; `signal` ends that wait.
   */
  write(chunk: Uint8Array, signal?: AbortSignal): Promise<void> | undefined;
  /** Resolves once the bytes the partial kept (on a resume) are hashed. */
  keptHashed(signal?: AbortSignal): Promise<void>;
  /** The sha256 of the whole partial, once every byte is hashed and written (not yet fsynced). */
  digest(signal?: AbortSignal): Promise<string>;
  /** Fsyncs and closes; after `digest()`. */
  finish(): Promise<void>;
  /** Writes what is queued, closes without fsync: the bytes stay for a resume. */
  abandon(): Promise<void>;
  /**
   * Writes bytes that arrived ahead of the hashed prefix (another connection's
   * range) at their offset, without hashing them: `absorb` hashes them once
   * the prefix reaches them. Resolves once they are in the file.
   */
  writeAt(bytes: Uint8Array, position: number): Promise<void>;
  /**
   * Hashes the next `length` bytes from the file itself (written there by
   * `writeAt`), after everything queued before, and moves past them. Each
   * byte is hashed once: bytes that came in order go through `write`, bytes
   * that came ahead are read back here, from the page cache as a rule.
   */
  absorb(length: number, signal?: AbortSignal): Promise<void>;
  /** How far from the start the file holds every byte queued or absorbed so far (for a checkpoint). */
  writtenTo(): number;
}

/** How partials are written: 'thread' (default) or 'plain' (the reference). */
export type WriterKind = 'thread' | 'plain';

const openFd = promisify(fsCb.open);
const fstat = promisify(fsCb.fstat);
const ftruncate = promisify(fsCb.ftruncate);
const closeFd = promisify(fsCb.close);
const write = promisify(fsCb.write);

/** The positioned writes (writeAt) a writer has in flight: its fd may be closed only once they end. */
export class PositionedWrites {
  private readonly inFlight = new Set<Promise<void>>();

  async write(fd: number, bytes: Uint8Array, position: number): Promise<void> {
    const placed = writeAllAt(fd, bytes, position);
    const ended = placed.then(
      () => {},
      () => {},
    );
    this.inFlight.add(ended);
    try {
      await placed;
    } finally {
      this.inFlight.delete(ended);
    }
  }

  /** Resolves once every write started so far has ended, well or not. */
  async settled(): Promise<void> {
    await Promise.all(this.inFlight);
  }
}

/** Writes all of `bytes` at `position` (a positioned write may take fewer bytes than asked). */
export async function writeAllAt(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await write(fd, bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

/**
 * Opens `file` keeping its first `offset` bytes (and, with `keepAfter`, the
 * bytes after them too: ranges other connections completed). Whatever is at the path is
 * not followed (O_NOFOLLOW), a FIFO or socket cannot block it (O_NONBLOCK)
 * and is refused, and so is a file with other names (a hard link to a file
 * outside the cache), before a byte of it is cut or written.
 */
export async function openPartialFd(file: string, offset: number, keepAfter = false): Promise<number> {
  const { O_RDWR, O_CREAT } = fsCb.constants;
  // Read and write: bytes written ahead by other connections are read back to be hashed.
  const fd = await openFd(
    file,
    O_RDWR | (offset > 0 || keepAfter ? 0 : O_CREAT) | O_NOFOLLOW | O_NONBLOCK,
    0o666,
  );
  try {
    // Checked on the open file itself: the path may have changed since anyone looked at it.
    const st = await fstat(fd);
    if (st.isFIFO() || st.isSocket() || (st.isFile() && st.nlink > 1)) {
      throw new CacheLayoutError(
        `${file} is ${st.isFile() ? 'a file with other names (a hard link)' : 'a FIFO or socket'}, not a partial download of the cache's own; it was left as it was: remove it and retry`,
      );
    }
    // Only a regular file has a length to cut (O_TRUNC would have cut a hard link's bytes before the check).
    if (st.isFile() && !keepAfter) await ftruncate(fd, offset);
    return fd;
  } catch (err) {
    await closeFd(fd).catch(() => {});
    throw err;
  }
}
