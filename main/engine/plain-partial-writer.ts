// The reference partial writer: sha256 on the main thread, positioned fs
// writes in order, nothing shared between threads. Slower than the worker
// thread (docs/performance.md), and obviously right: the same tests run on
// both, and a host that cannot run workers (or a debugging session) can pick
// it with the engine's `writer: 'plain'` option.
import { createHash } from 'node:crypto';
import * as fsCb from 'node:fs';
import { promisify } from 'node:util';
import { openPartialFd, type PartialFile, PositionedWrites, writeAllAt } from './partial-file.js';
import { untilAborted } from './waits.js';

// Past this many queued bytes a write waits: memory stays bounded on a slow disk.
const HIGH_WATER_BYTES = 4 << 20;
const READ_BYTES = 1 << 20;

const read = promisify(fsCb.read);
const fsync = promisify(fsCb.fsync);
const closeFd = promisify(fsCb.close);

export class PlainPartialWriter implements PartialFile {
  private readonly hash = createHash('sha256');
  private readonly kept: Promise<void>;
  /** Every queued write, in order, after the kept bytes are hashed. */
  private queue: Promise<void>;
  private queued = 0;
  private position: number;
  private failure: unknown;
  private result: string | undefined;
  private stopping = false;
  private closed = false;
  /** Where the file is whole from the start: moved on as each queued write or absorb ends. */
  private written: number;
  /** Positioned writes (writeAt) in flight: the fd stays open until they end. */
  private readonly placing = new PositionedWrites();

  private constructor(
    private readonly fd: number,
    offset: number,
  ) {
    this.position = offset;
    this.written = offset;
    this.kept = this.hashKept(offset);
    this.queue = this.kept;
    this.queue.catch((err: unknown) => {
      this.failure ??= err;
    });
  }

  static async open(file: string, offset: number, keepAfter = false): Promise<PlainPartialWriter> {
    return new PlainPartialWriter(await openPartialFd(file, offset, keepAfter), offset);
  }

  write(chunk: Uint8Array, signal?: AbortSignal): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (this.result !== undefined || this.closed) throw new Error('this partial writer is already finished');
    // A copy: the caller may reuse its buffer once this returns.
    const bytes = Buffer.from(chunk);
    const at = this.position;
    this.position += bytes.length;
    this.queued += bytes.length;
    this.queue = this.queue.then(async () => {
      this.hash.update(bytes);
      await writeAllAt(this.fd, bytes, at);
      this.queued -= bytes.length;
      this.written = at + bytes.length;
    });
    this.queue.catch((err: unknown) => {
      this.failure ??= err;
    });
    return this.queued < HIGH_WATER_BYTES ? undefined : untilAborted(this.queue, signal);
  }

  async writeAt(bytes: Uint8Array, position: number): Promise<void> {
    if (this.failure) throw this.failure;
    // After close the number may be another file's.
    if (this.closed) throw new Error('this partial writer is already closed');
    await this.placing.write(this.fd, bytes, position);
  }

  async absorb(length: number, signal?: AbortSignal): Promise<void> {
    if (this.failure) throw this.failure;
    const from = this.position;
    this.position += length;
    this.queue = this.queue.then(async () => {
      // Counted once read through (the bytes were in the file before the absorb was asked
      // for); one skipped by an abandon says nothing.
      if (await this.hashRange(from, from + length)) this.written = from + length;
    });
    this.queue.catch((err: unknown) => {
      this.failure ??= err;
    });
    await untilAborted(this.queue, signal);
  }

  writtenTo(): number {
    return this.written;
  }

  async keptHashed(signal?: AbortSignal): Promise<void> {
    await untilAborted(this.kept, signal);
  }

  async digest(signal?: AbortSignal): Promise<string> {
    await untilAborted(this.queue, signal);
    if (this.failure) throw this.failure;
    // A Hash digests once; the result is kept for later calls.
    this.result ??= this.hash.digest('hex');
    return this.result;
  }

  async finish(): Promise<void> {
    await this.digest();
    await this.placing.settled();
    await fsync(this.fd);
    this.closed = true;
    await closeFd(this.fd);
  }

  async abandon(): Promise<void> {
    // The kept bytes need no hash any more; the queued writes still go to disk.
    this.stopping = true;
    await this.queue.catch(() => {});
    await this.placing.settled();
    if (this.closed) return;
    this.closed = true;
    await closeFd(this.fd).catch(() => {});
  }

  /** Hashes the first `offset` bytes already in the file (a resume), before any new byte. */
  private async hashKept(offset: number): Promise<void> {
    await this.hashRange(0, offset);
  }

  /** Hashes bytes [from, to) of the file as they are; false when an abandon stopped it first. */
  private async hashRange(from: number, to: number): Promise<boolean> {
    const buf = Buffer.allocUnsafe(Math.min(READ_BYTES, Math.max(1, to - from)));
    for (let at = from; at < to; ) {
      if (this.stopping) return false;
      const { bytesRead } = await read(this.fd, buf, 0, Math.min(buf.length, to - at), at);
      if (bytesRead === 0) throw new Error(`the partial ends at ${at} bytes, before the ${to} to hash`);
      this.hash.update(buf.subarray(0, bytesRead));
      at += bytesRead;
    }
    return true;
  }
}
