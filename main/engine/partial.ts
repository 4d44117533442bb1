// The on-disk side of one download: `<key>.partial` written in order, and a
// small sidecar that says which bytes the partial holds, so a later attempt
// (or a later process) can resume it or knows to throw it away.

import type { Hash } from 'node:crypto';
import * as fsCb from 'node:fs';
import { createReadStream, createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import { promisify } from 'node:util';
import { removeIfExists, statOrUndefined } from './atomic.js';
import type { PlannedArtifact } from './manifest.js';
import { partialMetaPath, partialPath } from './paths.js';

export interface PartialMeta {
  sha256: string;
  sizeBytes: number;
  etag?: string;
  lastModified?: string;
}

export interface ResumePoint {
  offset: number;
  validator: string;
  meta: PartialMeta;
}

/** Where a previous attempt left off, or undefined to start from zero (stale leftovers removed). */
export async function findResumePoint(
  finalPath: string,
  artifact: PlannedArtifact,
): Promise<ResumePoint | undefined> {
  const partial = partialPath(finalPath);
  const metaFile = partialMetaPath(finalPath);
  let meta: PartialMeta | undefined;
  try {
    meta = JSON.parse(await fs.readFile(metaFile, 'utf8')) as PartialMeta;
  } catch {
    meta = undefined;
  }
  const st = await statOrUndefined(partial);
  const validator = meta?.etag ?? meta?.lastModified;
  if (
    !meta ||
    !st ||
    !validator ||
    meta.sha256 !== artifact.sha256 ||
    meta.sizeBytes !== artifact.sizeBytes ||
    st.size > artifact.sizeBytes
  ) {
    // A partial for other bytes, or one we cannot validate, is worth nothing.
    await discardPartial(finalPath);
    return undefined;
  }
  return { offset: st.size, validator, meta };
}

export async function writePartialMeta(finalPath: string, meta: PartialMeta): Promise<void> {
  await fs.writeFile(partialMetaPath(finalPath), `${JSON.stringify(meta)}\n`);
}

export async function discardPartial(finalPath: string): Promise<void> {
  await removeIfExists(partialPath(finalPath));
  await removeIfExists(partialMetaPath(finalPath));
}

/** Feeds the first `length` bytes of `file` into `hash` (the bytes a resume keeps). */
export async function hashFilePrefix(
  file: string,
  length: number,
  hash: Hash,
  signal?: AbortSignal,
): Promise<void> {
  if (length === 0) return;
  const stream = createReadStream(file, { start: 0, end: length - 1, highWaterMark: 1 << 20, signal });
  for await (const chunk of stream) hash.update(chunk as Buffer);
}

// Without this the kernel keeps the whole artifact dirty in memory (under its
// dirty_ratio) and writes it all back in the final fsync, after the last byte:
// a serial 0.4 s per GiB here. A background fdatasync every 32 MiB overlaps that
// write-back with the download; at most one is in flight.
const SYNC_EVERY_BYTES = 32 << 20;

/**
 * Sequential writer for the partial: writes are queued to the thread pool
 * while the caller keeps hashing the next chunk, so hashing, disk and network
 * overlap in one pass.
 */
export class PartialWriter {
  private failure: unknown;
  private unsynced = 0;
  private syncing: Promise<void> | undefined;
  /** Closing a number twice could close another file that reused it. */
  private closed = false;

  // A numeric fd, not a FileHandle: a FileHandle's close() waits for the
  // stream to let go of it, and we must fsync after the stream ends.
  private constructor(
    private readonly fd: number,
    private readonly stream: WriteStream,
  ) {
    stream.on('error', (err) => {
      this.failure ??= err;
    });
  }

  static async open(file: string, offset: number): Promise<PartialWriter> {
    const fd = await openFd(file, offset > 0 ? 'r+' : 'w');
    try {
      if (offset > 0) await ftruncate(fd, offset);
    } catch (err) {
      await closeFd(fd).catch(() => {});
      throw err;
    }
    const stream = createWriteStream('', { fd, start: offset, highWaterMark: 4 << 20, autoClose: false });
    return new PartialWriter(fd, stream);
  }

  /** Throws the first write error, if any. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  /** Queues a chunk; resolves at once unless the queue is full. */
  async write(chunk: Uint8Array): Promise<void> {
    this.check();
    this.unsynced += chunk.length;
    if (this.unsynced >= SYNC_EVERY_BYTES && !this.syncing) {
      this.unsynced = 0;
      this.syncing = fdatasync(this.fd).then(
        () => {
          this.syncing = undefined;
        },
        (err: unknown) => {
          this.failure ??= err;
          this.syncing = undefined;
        },
      );
    }
    if (this.stream.write(chunk)) return;
    await new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        this.stream.off('error', onError);
        resolve();
      };
      const onError = (err: unknown) => {
        this.stream.off('drain', onDrain);
        reject(err);
      };
      this.stream.once('drain', onDrain);
      this.stream.once('error', onError);
    });
  }

  /** Flushes, fsyncs and closes. */
  async finish(): Promise<void> {
    this.check();
    await new Promise<void>((resolve, reject) => {
      this.stream.once('error', reject);
      this.stream.end(() => resolve());
    });
    await this.syncing;
    this.check();
    await fsync(this.fd);
    this.closed = true;
    await closeFd(this.fd);
  }

  /** Closes without fsync; what was written stays in the partial for a resume. */
  async abandon(): Promise<void> {
    await this.syncing;
    if (!this.stream.destroyed && !this.stream.writableFinished) {
      await new Promise<void>((resolve) => this.stream.end(() => resolve()));
    }
    if (this.closed) return;
    this.closed = true;
    await closeFd(this.fd).catch(() => {});
  }
}

const openFd = promisify(fsCb.open);
const ftruncate = promisify(fsCb.ftruncate);
const fsync = promisify(fsCb.fsync);
const fdatasync = promisify(fsCb.fdatasync);
const closeFd = promisify(fsCb.close);
