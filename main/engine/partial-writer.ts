// Writes `<key>.partial` and hashes it in one pass, off the main thread.
//
// The main thread copies each received chunk into a shared ring and goes back
// to the socket; a worker thread hashes a slice of the ring and writes that
// same slice to the file while it is still in the worker's cache. Measured on
// 1 GiB (docs/performance.md): hashing on the main thread and queueing writes
// to the thread pool copied every chunk into the page cache from another core,
// long after it was received, and that copy cost more CPU than sha256 itself.

import * as fsCb from 'node:fs';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { openPartialFd, type PartialFile, PositionedWrites } from './partial-file.js';
import { ThreadLender } from './thread-lender.js';
import { untilAborted } from './waits.js';
import {
  SLOT,
  SLOT_COUNT,
  type ThreadData,
  type ThreadJob,
  type ThreadMessage,
  writerThread,
} from './writer-thread.js';

// 1 MiB: a 4 MiB ring was 6 % faster at 1 GiB but peaked 13 MB higher.
const RING_BYTES = 1 << 20;
const SLICE_BYTES = 256 << 10;
// A sleeping thread is woken once half the ring is queued, not per chunk. Each
// wake-up is a futex call, dear on a VM (it wakes another vCPU): the profile
// showed 0.12 s of main-thread time per GiB in them. Waking at 512 KiB was 5 %
// faster than at 256 KiB at 1 GiB, and the same at 256 MiB (paired runs).
const WAKE_BYTES = 512 << 10;

// Without this the kernel keeps the whole artifact dirty in memory (under its
// dirty_ratio) and writes it all back in the final fsync, after the last byte:
// a serial 0.4 s per GiB here. A background fdatasync every 32 MiB overlaps that
// write-back with the download; at most one is in flight.
const SYNC_EVERY_BYTES = 32 << 20;

interface WriterThread {
  worker: Worker;
  ring: Uint8Array;
  ctl: Int32Array;
}

// 5 s covers the gap between the artifacts of one sync and a retry's first backoff.
const threads = new ThreadLender<WriterThread>(() => {
  const data: ThreadData = {
    ring: new SharedArrayBuffer(RING_BYTES),
    control: new SharedArrayBuffer(SLOT_COUNT * Int32Array.BYTES_PER_ELEMENT),
    slot: SLOT,
    sliceBytes: SLICE_BYTES,
    wakeBytes: WAKE_BYTES,
  };
  // `require` reaches the worker as an argument: a bundler that rewrites free
  // `require` calls in the host app leaves a parameter alone. `__name` covers a
  // transpiler that keeps function names with a helper call. No Node options:
  // the thread needs only fs and crypto, an inherited --input-type=module would
  // run this source as an ES module (no `require`), and process-wide ones
  // (--max-old-space-size, --expose-gc) are refused if given to a worker.
  const source = `var __name = (f) => f;\n(${writerThread.toString()})(require);\n`;
  return {
    worker: new Worker(source, { eval: true, workerData: data, execArgv: [] }),
    ring: new Uint8Array(data.ring),
    ctl: new Int32Array(data.control),
  };
}, 5_000);

export class PartialWriter implements PartialFile {
  private readonly ring: Uint8Array;
  private readonly ctl: Int32Array;
  private head = 0;
  /**
   * Where the file is whole from the start: the kept bytes, every byte copied
   * into the ring, and every absorb the thread has finished. Less the ring's
   * unwritten bytes, it is what a checkpoint may record (writtenTo).
   */
  private position: number;
  /** A write still copying into a full ring: an absorb waits for it. */
  private copying: Promise<void> | undefined;
  /** Positioned writes (writeAt) in flight: the fd stays open until they end. */
  private readonly placing = new PositionedWrites();
  private failure: unknown;
  private unsynced = 0;
  private syncing: Promise<void> | undefined;
  /** Closing a number twice could close another file that reused it. */
  private closed = false;
  private readonly result: Promise<string>;
  /** Settles once the thread is done with this partial: only then may the fd be closed. */
  private readonly released: Promise<void>;
  /** Returns the thread (and its ring) to the lender: after it, this writer touches neither. */
  private readonly giveBack: () => void;
  private handedBack = false;
  /** Rejects the waits in progress when the thread fails. */
  private readonly failing = new Set<(err: unknown) => void>();
  /** The worker's id, the same for writers that followed each other on one kept thread. */
  readonly threadId: number;

  private constructor(
    private readonly fd: number,
    offset: number,
  ) {
    this.position = offset;
    const { thread, answer, giveBack } = threads.run((t): ThreadJob => {
      // The thread is between jobs and the last writer is done with the ring.
      t.ctl.fill(0);
      return { fd, offset };
    });
    this.ring = thread.ring;
    this.ctl = thread.ctl;
    this.giveBack = giveBack;
    this.threadId = thread.worker.threadId;
    this.released = answer.then(
      () => {},
      () => {},
    );
    this.result = (answer as Promise<ThreadMessage>).then((message) => {
      if ('digest' in message) return message.digest;
      if ('error' in message) throw Object.assign(new Error(message.error.message), message.error);
      throw new Error('the partial writer was abandoned');
    });
    this.result.catch((err: unknown) => {
      this.failure ??= err;
      for (const fail of this.failing) fail(err);
    });
  }

  /** Opens `file` keeping its first `offset` bytes, which the thread hashes first (see openPartialFd). */
  static async open(file: string, offset: number, keepAfter = false): Promise<PartialWriter> {
    const fd = await openPartialFd(file, offset, keepAfter);
    try {
      return new PartialWriter(fd, offset);
    } catch (err) {
      await closeFd(fd).catch(() => {});
      throw err;
    }
  }

  /** Throws the first write error, if any, or on a use after finish() or abandon(). */
  private check(): void {
    if (this.failure) throw this.failure;
    // The ring may be another download's by now.
    if (this.handedBack) throw new Error('this partial writer is already finished or abandoned');
  }

  private handBack(): void {
    this.handedBack = true;
    this.giveBack();
  }

  /**
   * Copies a chunk into the ring. Returns nothing when it all fit (the common
   * case, with no promise per chunk), else a promise for the rest; `signal`
   * ends that wait (the thread may still be hashing kept bytes).
   */
  write(chunk: Uint8Array, signal?: AbortSignal): Promise<void> | undefined {
    this.check();
    this.dirtied(chunk.length);
    const from = this.copyIn(chunk, 0);
    if (from === chunk.length) return undefined;
    const rest = this.writeRest(chunk, from, signal);
    this.copying = rest.then(
      () => {},
      () => {},
    );
    return rest;
  }

  /** Starts a background fdatasync every SYNC_EVERY_BYTES written, however they were written. */
  private dirtied(bytes: number): void {
    this.unsynced += bytes;
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
  }

  async writeAt(bytes: Uint8Array, position: number): Promise<void> {
    this.check();
    this.dirtied(bytes.length);
    await this.placing.write(this.fd, bytes, position);
  }

  async absorb(length: number, signal?: AbortSignal): Promise<void> {
    this.check();
    await this.copying;
    // One slot holds an int32: a range of many GB is hashed a GiB at a time. The
    // thread drains the ring first (a pending absorb keeps it from sleeping), so
    // what was queued before is hashed before these bytes.
    for (let left = length; left > 0; ) {
      const n = Math.min(left, ABSORB_MAX_BYTES);
      Atomics.store(this.ctl, SLOT.absorb, n);
      this.wake();
      try {
        while (Atomics.load(this.ctl, SLOT.absorb) !== 0) {
          await this.waitWhile(SLOT.absorb, n, signal);
          this.check();
        }
      } catch (err) {
        // The thread may still take these bytes: main's count and the thread's offset part here.
        this.failure ??= new Error('an absorb was cut short: this partial writer can only be abandoned');
        throw err;
      }
      // Counted once done: an absorb cut short by an abort says nothing of the file.
      this.position += n;
      left -= n;
    }
  }

  writtenTo(): number {
    // Once the thread is done (finished or abandoned) what was copied is written, and the ring maybe another writer's.
    if (this.handedBack) return this.position;
    return this.position - Atomics.load(this.ctl, SLOT.filled);
  }

  private async writeRest(chunk: Uint8Array, from: number, signal: AbortSignal | undefined): Promise<void> {
    let at = from;
    try {
      while (at < chunk.length) {
        await this.roomAfter(Atomics.load(this.ctl, SLOT.filled), signal);
        this.check();
        at = this.copyIn(chunk, at);
      }
    } catch (err) {
      // The rest of the chunk never reached the ring: anything written after it would land at
      // the wrong offset. What is in the file stays good for a resume; this writer is done.
      this.failure ??= new Error('a write was cut short: this partial writer can only be abandoned');
      throw err;
    }
  }

  /** Copies what fits from `chunk[from..]`; returns where it stopped. */
  private copyIn(chunk: Uint8Array, from: number): number {
    const size = this.ring.length;
    let at = from;
    let filled = Atomics.load(this.ctl, SLOT.filled);
    for (;;) {
      const n = Math.min(size - filled, size - this.head, chunk.length - at);
      if (n === 0) break;
      this.ring.set(chunk.subarray(at, at + n), this.head);
      this.head = (this.head + n) % size;
      this.position += n;
      at += n;
      filled = Atomics.add(this.ctl, SLOT.filled, n) + n;
    }
    if (filled >= WAKE_BYTES && Atomics.load(this.ctl, SLOT.sleeping)) this.wake();
    return at;
  }

  /** Waits until the thread has taken bytes out of a full ring, or failed. */
  private async roomAfter(filled: number, signal: AbortSignal | undefined): Promise<void> {
    if (filled < this.ring.length) return;
    await this.waitWhile(SLOT.filled, filled, signal);
  }

  /** Waits while `slot` still holds `value`, until the thread fails, or until `signal` aborts. */
  private async waitWhile(slot: number, value: number, signal: AbortSignal | undefined): Promise<void> {
    const wait = Atomics.waitAsync(this.ctl, slot, value);
    if (!wait.async || this.failure) return;
    // A promise of its own per wait, not a race with `result`: each race would
    // leave a reaction on `result` until the download ends, one per full ring.
    let fail: (err: unknown) => void = () => {};
    const failed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    this.failing.add(fail);
    try {
      await untilAborted(Promise.race([wait.value, failed]), signal);
    } finally {
      this.failing.delete(fail);
    }
  }

  private wake(): void {
    Atomics.add(this.ctl, SLOT.seq, 1);
    Atomics.notify(this.ctl, SLOT.seq);
  }

  /** Resolves once the thread has hashed the bytes the partial kept (at once when none). */
  async keptHashed(signal?: AbortSignal): Promise<void> {
    this.check();
    await this.waitWhile(SLOT.kept, 0, signal);
    this.check();
  }

  /** The sha256 of the whole partial, once every byte is hashed and written (not yet fsynced). */
  async digest(signal?: AbortSignal): Promise<string> {
    this.check();
    if (!Atomics.load(this.ctl, SLOT.ended)) {
      Atomics.store(this.ctl, SLOT.ended, 1);
      this.wake();
    }
    return untilAborted(this.result, signal);
  }

  /** Fsyncs and closes; call after `digest()`. */
  async finish(): Promise<void> {
    await this.digest();
    await this.released;
    await this.placing.settled();
    this.handBack();
    await this.syncing;
    if (this.failure) throw this.failure;
    await fsync(this.fd);
    this.closed = true;
    await closeFd(this.fd);
  }

  /** Lets the thread write what is queued, stops it and closes without fsync; the bytes stay for a resume. */
  async abandon(): Promise<void> {
    if (!this.handedBack) {
      Atomics.store(this.ctl, SLOT.abort, 1);
      this.wake();
      await this.released;
      this.handBack();
    }
    await this.placing.settled();
    await this.syncing;
    if (this.closed) return;
    this.closed = true;
    await closeFd(this.fd).catch(() => {});
  }
}

/** The most one absorb slot asks the thread to hash at once. */
const ABSORB_MAX_BYTES = 1 << 30;

const fsync = promisify(fsCb.fsync);
const fdatasync = promisify(fsCb.fdatasync);
const closeFd = promisify(fsCb.close);
