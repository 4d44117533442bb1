// The body of the partial writer's worker thread: it hashes each slice of the
// ring and writes that same slice to the partial while the bytes are still in
// this core's cache, so the main thread only receives and copies into the ring.
//
// The worker runs this function's source text (`eval`), so it must not touch
// anything from this module's scope: Node's modules come in through `load`, the
// ring's layout through workerData, and each partial to write as a message.
// Keep it free of nested named functions too: some transpilers wrap those in
// helpers the worker would not have.

/** Slots of the Int32Array over `control`. */
export const SLOT = {
  /** Bytes in the ring not yet hashed and written (main adds, the thread subtracts). */
  filled: 0,
  /** Bumped by main to wake the thread (a batch queued, the end, an abort); the thread sleeps on it. */
  seq: 1,
  /** 1 once main has queued its last byte. */
  ended: 2,
  /** 1 when main gives up: the thread stops hashing, writes what is queued and answers `stopped`. */
  abort: 3,
  /** Set to 1 by the thread once the kept bytes are hashed. */
  kept: 4,
  /** 1 while the thread sleeps until main has queued `wakeBytes` (or ended). */
  sleeping: 5,
  /**
   * Bytes to hash from the file once the ring is drained (written there by
   * another connection); main queues nothing meanwhile. The thread sets it
   * back to 0 when they are hashed.
   */
  absorb: 6,
} as const;
export const SLOT_COUNT = 7;

/**
 * What the thread is started with. The ring and its control slots belong to the
 * thread for its whole life: buffers posted per job would pile up in the
 * thread's isolate, which allocates too little to run its GC (the soak's RSS
 * grew 52 MiB over 100 downloads that way).
 */
export interface ThreadData {
  ring: SharedArrayBuffer;
  control: SharedArrayBuffer;
  slot: typeof SLOT;
  /** The most the thread hashes and writes in one go (kept small for cache locality). */
  sliceBytes: number;
  /** A sleeping thread is woken once this much is queued. */
  wakeBytes: number;
}

/**
 * One partial to write, posted to the thread once main has reset the control
 * slots; it answers with one ThreadMessage, starting at the ring's start.
 */
export interface ThreadJob {
  fd: number;
  /** Bytes already in the partial: the thread hashes them first (a resume). */
  offset: number;
}

/** The thread's one answer per job; after it, the thread no longer touches the job's fd or the ring. */
export type ThreadMessage =
  | { digest: string }
  | { stopped: true }
  | { error: { message: string; code?: string; errno?: number; syscall?: string } };

export function writerThread(load: NodeJS.Require): void {
  const fs = load('node:fs') as typeof import('node:fs');
  const { createHash } = load('node:crypto') as typeof import('node:crypto');
  const { parentPort, workerData } = load('node:worker_threads') as typeof import('node:worker_threads');
  const { ring: ringBuffer, control, slot, sliceBytes, wakeBytes } = workerData as ThreadData;
  const port = parentPort as import('node:worker_threads').MessagePort;
  const ring = new Uint8Array(ringBuffer);
  const ctl = new Int32Array(control);
  const buf = Buffer.allocUnsafe(1 << 20);
  // One job at a time: the handler blocks until the job is done, and the next
  // job's message is only delivered once it has returned.
  port.on('message', (job: ThreadJob) => {
    const hash = createHash('sha256');
    try {
      let pos = 0;
      while (pos < job.offset && !Atomics.load(ctl, slot.abort)) {
        const n = fs.readSync(job.fd, buf, 0, Math.min(buf.length, job.offset - pos), pos);
        if (n === 0)
          throw new Error(`the partial ends at ${pos} bytes, before the ${job.offset} it should keep`);
        hash.update(buf.subarray(0, n));
        pos += n;
      }
      Atomics.store(ctl, slot.kept, 1);
      Atomics.notify(ctl, slot.kept);
      let tail = 0;
      let at = job.offset;
      // Asleep, the thread waits for a batch (`wakeBytes`), not for every chunk:
      // each wake-up is a futex call on both sides. Once awake it drains the ring.
      let draining = false;
      for (;;) {
        const seq = Atomics.load(ctl, slot.seq);
        // Main sets `ended` or `abort` after its last add, so seeing either with
        // nothing filled means every byte it queued is in the file.
        const last = Atomics.load(ctl, slot.ended) || Atomics.load(ctl, slot.abort);
        const filled = Atomics.load(ctl, slot.filled);
        const absorb = Atomics.load(ctl, slot.absorb);
        if (filled === 0 && absorb > 0) {
          // Main asks only with the ring empty, so these bytes come next in order.
          const end = at + absorb;
          while (at < end && !Atomics.load(ctl, slot.abort)) {
            const n = fs.readSync(job.fd, buf, 0, Math.min(buf.length, end - at), at);
            if (n === 0) throw new Error(`the partial ends at ${at} bytes, before the ${end} to hash`);
            hash.update(buf.subarray(0, n));
            at += n;
          }
          // Even cut short by an abort, what main queues next belongs after these bytes.
          at = end;
          Atomics.store(ctl, slot.absorb, 0);
          Atomics.notify(ctl, slot.absorb);
          continue;
        }
        if (filled === 0) {
          if (last) break;
          draining = false;
        }
        if (!draining && !last && absorb === 0 && filled < wakeBytes) {
          // Announce the sleep, then look again: main checks `sleeping` after
          // each add, so one of the two sides always sees the other.
          Atomics.store(ctl, slot.sleeping, 1);
          const more =
            Atomics.load(ctl, slot.filled) >= wakeBytes ||
            Atomics.load(ctl, slot.absorb) ||
            Atomics.load(ctl, slot.ended) ||
            Atomics.load(ctl, slot.abort);
          if (!more) Atomics.wait(ctl, slot.seq, seq);
          Atomics.store(ctl, slot.sleeping, 0);
          continue;
        }
        draining = true;
        const n = Math.min(filled, ring.length - tail, sliceBytes);
        const view = ring.subarray(tail, tail + n);
        // After an abort the hash is worthless, but the bytes still go to the
        // file: they were received in order and a later attempt resumes after them.
        if (!Atomics.load(ctl, slot.abort)) hash.update(view);
        let done = 0;
        while (done < n) done += fs.writeSync(job.fd, view, done, n - done, at + done);
        at += n;
        tail = (tail + n) % ring.length;
        Atomics.sub(ctl, slot.filled, n);
        Atomics.notify(ctl, slot.filled);
      }
      port.postMessage(
        (Atomics.load(ctl, slot.abort)
          ? { stopped: true }
          : { digest: hash.digest('hex') }) satisfies ThreadMessage,
      );
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      port.postMessage({
        error: { message: e.message, code: e.code, errno: e.errno, syscall: e.syscall },
      } satisfies ThreadMessage);
    }
  });
}
