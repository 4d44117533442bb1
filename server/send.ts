// Writing a response body: backpressure, pacing, and the body-level faults
// (corrupt a byte, append junk, reset or stall part-way). Byte counts come from
// write callbacks, which fire once the socket has taken the bytes.

import type { ServerResponse } from 'node:http';
import { PIECE_SIZE } from './content.js';

export interface BodyPlan {
  pieces: Iterable<Buffer> | AsyncIterable<Buffer>;
  /** Real content bytes `pieces` yields. */
  contentLength: number;
  /** Junk bytes sent after the content. */
  extraBytes: number;
  /** Offset within this body of a byte to flip. */
  corruptAt?: number;
  /** Destroy the socket once this many body bytes are flushed. */
  resetAt?: number;
  /** Stop writing after this many body bytes and leave the response open. */
  stallAt?: number;
  bytesPerSec?: number;
}

// Pacing runs in ticks of about 1/20 s, so a slow drip looks continuous to a
// progress bar rather than arriving in one-second bursts.
const TICKS_PER_SEC = 20;
const JUNK = Buffer.alloc(PIECE_SIZE, 0x5a);

export async function sendBody(
  res: ServerResponse,
  plan: BodyPlan,
  onFlushed: (n: number) => void,
): Promise<void> {
  let closed = res.destroyed;
  res.once('close', () => {
    closed = true;
  });

  const total = plan.contentLength + plan.extraBytes;
  const reset = plan.resetAt !== undefined && plan.resetAt <= total ? plan.resetAt : undefined;
  const stall = plan.stallAt !== undefined && plan.stallAt <= total ? plan.stallAt : undefined;
  const limit = Math.min(reset ?? total, stall ?? total);
  const rate = plan.bytesPerSec !== undefined && plan.bytesPerSec > 0 ? plan.bytesPerSec : undefined;
  const maxPiece = rate
    ? Math.max(1, Math.min(PIECE_SIZE, Math.floor(rate / TICKS_PER_SEC)))
    : Number.POSITIVE_INFINITY;
  const started = performance.now();
  let sent = 0;

  const waitFor = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        res.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      res.once('close', done);
    });

  const drained = (): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.once('drain', done);
      res.once('close', done);
    });

  // Writes `buf` in paced pieces; false once the client has gone.
  const emit = async (buf: Buffer): Promise<boolean> => {
    for (let at = 0; at < buf.length; ) {
      if (closed) return false;
      const piece = buf.subarray(at, Math.min(buf.length, at + maxPiece));
      if (rate) {
        const due = (sent / rate) * 1000 - (performance.now() - started);
        if (due > 1) await waitFor(due);
        if (closed) return false;
      }
      const n = piece.length;
      const ok = res.write(piece, (err?: Error | null) => {
        if (!err) onFlushed(n);
      });
      sent += n;
      at += n;
      if (!ok) await drained();
    }
    return !closed;
  };

  const contentLimit = Math.min(limit, plan.contentLength);
  for await (const chunk of plan.pieces) {
    if (sent >= contentLimit) break;
    let c = chunk.length > contentLimit - sent ? chunk.subarray(0, contentLimit - sent) : chunk;
    if (plan.corruptAt !== undefined && plan.corruptAt >= sent && plan.corruptAt < sent + c.length) {
      // Pieces may be views of shared buffers: flip a byte in a copy.
      c = Buffer.from(c);
      const i = plan.corruptAt - sent;
      c[i] = (c[i] as number) ^ 0xff;
    }
    if (!(await emit(c))) return;
    if (sent >= contentLimit) break;
  }
  if (sent < contentLimit) {
    // The source ended early (a file shrank while being served): the promised
    // Content-Length cannot be met, so end the connection rather than lie.
    res.destroy();
    return;
  }
  while (sent < limit) {
    if (!(await emit(JUNK.subarray(0, Math.min(JUNK.length, limit - sent))))) return;
  }

  if (reset !== undefined && sent >= reset) {
    await flushed(res);
    res.socket?.destroy();
    return;
  }
  if (stall !== undefined && sent >= stall) {
    // Headers must reach the client even if no body byte does. headersSent turns
    // true at writeHead, before anything is on the wire, so flush regardless.
    res.flushHeaders();
    return;
  }
  res.end();
}

/**
 * Resolves once everything written so far has been handed to the kernel: an empty
 * write on the socket completes after the writes queued before it.
 */
function flushed(res: ServerResponse): Promise<void> {
  res.flushHeaders();
  const socket = res.socket;
  if (!socket || socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('close', done);
      resolve();
    };
    socket.once('close', done);
    socket.write(Buffer.alloc(0), done);
  });
}
