// The body of one download attempt: one connection, or several fetching
// ranges of the same tarball at once when the server answers ranges properly
// and more connections measurably help.
//
// The partial writer hashes in order, in one pass. The connection whose bytes
// continue the hashed prefix hands them straight to it; bytes that arrive
// ahead are written at their offset and hashed from the file once the prefix
// reaches them (absorb). So each byte is hashed once, in order, and memory
// stays bounded however many connections run.
//
// Scaling is measured, not assumed: a second connection is tried once the
// first has run a while, and the count doubles while the total rate grows by
// a quarter each time; when it does not, the newest connections are let go
// and the count stays. An idle connection takes over the tail of the one that
// would finish last, so the end does not crawl on one slow connection. The
// sidecar records the ranges in the file often (CHECKPOINT_*), so a crash keeps them.
//
// A server that answers a range with anything but that range (a 200, another
// Content-Range, another validator) ends the ranges: OneStreamInstead, and
// the caller goes on with one connection from the hashed prefix.

import path from 'node:path';
import type { DownloadContext } from './download-context.js';
import { CancelError, fsError, HttpStatusError, NetworkError, type VmCacheError } from './errors.js';
import type { SelectedArtifact } from './manifest.js';
import { type PartialMeta, writePartialMeta } from './partial.js';
import type { PartialFile } from './partial-file.js';
import { partialPath } from './paths.js';
import { type ActiveRequest, parseRetryAfter, startRequest, watchStall } from './request.js';
import { type Ranges, type Span, Spans } from './spans.js';
import type { TransportResponse } from './transport.js';
import { sleep } from './waits.js';

/** Below this much left to fetch, one connection is all it is worth. */
const MIN_RANGED_BYTES = 16 << 20;
/** No connection is started for less than this, nor a tail split smaller. */
const MIN_PIECE_BYTES = 1 << 20;
/** How long each connection count runs before the total rate is judged. */
const WINDOW_MS = 500;
/** More connections stay only if the total rate grew by this factor. */
const GROWTH = 1.25;
// The sidecar (a small file and a rename, no fsync) is rewritten four times a
// second, and whenever CHECKPOINT_BYTES more have been placed ahead of the
// prefix: a SIGKILL loses about that much of the ranges, however fast they came.
const CHECKPOINT_MS = 250;
const CHECKPOINT_BYTES = 4 << 20;

/** Range requests the last connection may have refused (503, 429) before the attempt fails. */
const MAX_REFUSALS = 3;

/** Ranges cannot work with this server (or it changed the file): go on with one connection. */
export class OneStreamInstead extends Error {}

interface Connection {
  span: Span;
  /** Let go by the ramp: its span goes back to the pool, and it ends without an error. */
  retired: boolean;
  controller: AbortController;
  /** Bytes since the ramp last measured it. */
  bytes: number;
  /** No bytes for a third of the stall timeout. */
  stalled: boolean;
}

export interface TransferStart {
  /** The first response, already judged: a 200 of the whole, or a 206 from `from`. */
  res: TransportResponse;
  request: ActiveRequest;
  /** Where the hashed prefix ends (what the writer kept). */
  from: number;
  /** Ranges after the prefix a previous attempt completed. */
  done: Ranges;
  /** The sidecar as it stands; checkpoints add the ranges to it. */
  meta: PartialMeta;
}

export class Transfer {
  private readonly spans: Spans;
  /** Where the writer's in-order bytes end (queued or absorbed). */
  private frontier: number;
  private absorbing: Promise<void> | undefined;
  private readonly stop = new AbortController();
  private readonly signal: AbortSignal;
  private readonly running = new Set<Promise<void>>();
  private readonly connections = new Set<Connection>();
  private failure: unknown;
  private received = 0;
  private readonly url: string;
  private readonly validator: string | undefined;
  private readonly ranged: boolean;
  private checkpointing: Promise<boolean> | undefined;
  /** The sidecar records ranges: from now on it must follow them (a resume's sidecar already does). */
  private recorded: boolean;
  /** Bytes placed ahead of the prefix since the last checkpoint began. */
  private unrecorded = 0;
  /** The ramp: connections wanted now, and the total rate at the level before. */
  private target = 1;
  private lastRate = 0;
  private settled = false;
  private windowBytes = 0;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly ctx: DownloadContext,
    private readonly artifact: SelectedArtifact,
    private readonly finalPath: string,
    private readonly writer: PartialFile,
    private readonly start: TransferStart,
    /** False after OneStreamInstead: no range requests beyond the first. */
    allowRanges: boolean,
  ) {
    this.url = start.request.url;
    this.recorded = start.meta.ranges !== undefined;
    this.frontier = start.from;
    this.spans = new Spans(start.from, artifact.sizeBytes, start.done);
    this.signal = ctx.signal ? AbortSignal.any([ctx.signal, this.stop.signal]) : this.stop.signal;
    const { res } = start;
    // If-Range needs a strong validator: a weak ETag cannot guard a range.
    const etag = res.header('etag');
    this.validator = etag && !etag.startsWith('W/') ? etag : res.header('last-modified');
    const answersRanges =
      res.status === 206 || /\bbytes\b/i.test(res.header('accept-ranges') ?? '') || start.done.length > 0;
    this.ranged =
      allowRanges &&
      !ctx.importing &&
      this.validator !== undefined &&
      answersRanges &&
      ctx.maxConnections > 1;
  }

  /** Resolves once every byte is in the file and handed to the writer in order. */
  async run(): Promise<void> {
    // Ranges a previous attempt left need requests of their own, whatever the ramp says.
    const leftOver = this.spans.all().length > 1;
    // Decided before any connection runs: nothing may write into the partial after this throws.
    if (leftOver && !this.ranged) throw new OneStreamInstead('the server no longer answers ranges');
    const first = this.spans.all()[0]!;
    first.busy = true;
    this.ctx.connections?.open();
    this.launch(first, this.start);
    if (this.ranged) {
      // Until a byte lands out of order the file is one prefix: its length says it all.
      this.timers.push(setInterval(() => this.recorded && this.checkpoint(), CHECKPOINT_MS));
      if (this.artifact.sizeBytes - this.start.from >= MIN_RANGED_BYTES)
        this.timers.push(setInterval(() => this.ramp(), WINDOW_MS));
      if (leftOver) this.grow(2);
    }
    try {
      while (this.running.size > 0) await Promise.race(this.running);
      if (this.failure !== undefined) throw this.failure;
      await this.advance();
      if (this.failure !== undefined) throw this.failure;
      if (this.frontier !== this.artifact.sizeBytes) {
        throw new NetworkError(
          this.url,
          new Error(
            `the connections ended with ${this.frontier} of ${this.artifact.sizeBytes} bytes in order`,
          ),
        );
      }
    } finally {
      this.stopTimers();
      this.stop.abort();
      await this.absorbing?.catch(() => {});
      await this.checkpointing;
    }
  }

  /** The sidecar records ranges (the caller makes it one prefix again once the file is whole). */
  get recordedRanges(): boolean {
    return this.recorded;
  }

  private stopTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /**
   * After a failure (the writer abandoned, so every queued byte is in the
   * file): records the ranges for the next attempt. After OneStreamInstead
   * only the prefix is kept, for one connection to go on from.
   */
  async keepForResume(oneStream: boolean): Promise<void> {
    await this.checkpointing;
    if (!this.recorded && !oneStream) return;
    const whole = this.writer.writtenTo();
    const ranges = oneStream
      ? whole > 0
        ? ([[0, whole]] as Ranges)
        : []
      : this.spans.ranges(whole, this.frontier);
    await writePartialMeta(this.finalPath, { ...this.start.meta, ranges });
  }

  private launch(span: Span, opened?: TransferStart): void {
    const conn: Connection = {
      span,
      retired: false,
      controller: new AbortController(),
      bytes: 0,
      stalled: false,
    };
    this.connections.add(conn);
    const done = this.connect(conn, opened).then(
      () => {},
      (err: unknown) => {
        if (conn.retired && !this.signal.aborted) return;
        if (this.failure === undefined) {
          this.failure = err;
          this.stop.abort();
        }
      },
    );
    const tracked = done.finally(() => {
      this.running.delete(tracked);
      this.connections.delete(conn);
      this.ctx.connections?.close();
      conn.span.busy = false;
      this.refill();
    });
    this.running.add(tracked);
  }

  /**
   * Bytes nobody fetches (a connection let go, or refused, while the others
   * had ended or found nothing to take over) get a connection: the last one
   * never ends while work is left.
   */
  private refill(): void {
    if (this.signal.aborted || this.failure !== undefined) return;
    while (this.connections.size < Math.max(1, this.target)) {
      const idle = this.spans.all().some((s) => !s.busy && s.at + s.inFlight < s.end);
      if (!idle) return;
      if (this.connections.size === 0) this.ctx.connections?.open();
      else if (!this.ctx.connections?.tryOpen()) return;
      this.launch(this.spans.claim(this.averageRate(), MIN_PIECE_BYTES)!);
    }
  }

  /** One connection: its first span, then whatever it can claim, until nothing is left worth a request. */
  private async connect(conn: Connection, opened: TransferStart | undefined): Promise<void> {
    let refused = 0;
    for (let first = opened; ; first = undefined) {
      try {
        await this.fetch(conn, first);
      } catch (err) {
        if (!(err instanceof HttpStatusError) || first) throw err;
        if (this.connections.size > 1) {
          // A server that allows fewer connections (503, 429 to the extra ones): fewer it is.
          this.settled = true;
          this.target = Math.max(1, this.connections.size - 1);
          conn.retired = true;
          return;
        }
        // The last one: the server may not have seen the others close yet. A few short waits, then the attempt fails.
        if (!err.transient || ++refused > MAX_REFUSALS) throw err;
        await sleep(Math.min(err.retryAfterMs ?? 500 * refused, 5_000), this.signal);
        continue;
      }
      conn.span.busy = false;
      if (conn.retired) return;
      const next = this.spans.claim(conn.span.rate, MIN_PIECE_BYTES);
      if (!next) return;
      conn.span = next;
    }
  }

  /** Fetches the rest of `conn.span`: on the first response, or a range request of its own. */
  private async fetch(conn: Connection, opened: TransferStart | undefined): Promise<void> {
    const span = conn.span;
    const size = this.artifact.sizeBytes;
    const signal = AbortSignal.any([this.signal, conn.controller.signal]);
    let request: ActiveRequest;
    let res: TransportResponse;
    let unlink = () => {};
    if (opened) {
      ({ request, res } = opened);
      // The first request was opened before this transfer: its end (a sibling failed, the ramp let it go) is linked here.
      const end = () => request.abort(new CancelError());
      if (signal.aborted) end();
      else signal.addEventListener('abort', end, { once: true });
      unlink = () => signal.removeEventListener('abort', end);
    } else {
      const last = span.end - 1;
      const started = startRequest(this.ctx.transport, this.url, {
        signal,
        timeoutMs: this.ctx.timeoutMs,
        headers: {
          'accept-encoding': 'identity',
          ...this.ctx.roots.headersFor(this.ctx.artifactRoot),
          range: `bytes=${span.at}-${last}`,
          'if-range': this.validator!,
        },
        allowInsecureHttp: this.ctx.allowInsecureHttp,
        raw: true,
      });
      request = started.request;
      res = await started.response;
      try {
        this.judgeRange(res, span.at, last);
      } catch (err) {
        request.done();
        throw err;
      }
    }
    const stall = watchStall(request, this.ctx.stallTimeoutMs, (stalled) => this.stalled(conn, stalled));
    try {
      for await (const chunk of res.body) {
        stall.tick();
        const room = span.end - span.at - span.inFlight;
        if (chunk.length > room && span.end === size && opened) {
          // Cut off at once: never more than sizeBytes on disk.
          throw new TooLong();
        }
        const bytes = chunk.length > room ? chunk.subarray(0, room) : chunk;
        if (bytes.length > 0) {
          this.received += bytes.length;
          conn.bytes += bytes.length;
          this.ctx.progress.addBytes(this.artifact.key, bytes.length);
          // Waiting for the cap is not a stall: the watch is told while it waits.
          if (this.ctx.limiter) await this.ctx.limiter.take(bytes.length, signal, () => stall.tick());
          await this.place(span, bytes);
        }
        if (span.at + span.inFlight >= span.end) break;
      }
      if (span.at < span.end) {
        // The first response is the whole file (or its rest): short, it is not the manifest's file.
        if (opened) throw new TooShort(span.at);
        throw new NetworkError(this.url, new Error(`bytes ${span.at}-${span.end - 1} were not sent`));
      }
    } catch (err) {
      if (err instanceof OneStreamInstead || err instanceof TooLong || err instanceof TooShort) throw err;
      if (err instanceof WriteFailed) throw err.coded;
      throw request.errorFor(err);
    } finally {
      unlink();
      stall.stop();
      this.stalled(conn, false);
      res.cancel();
      request.done();
    }
  }

  /**
   * The download reads as stalled only while every connection is: one slow
   * connection among flowing ones is the takeover's business, not the user's.
   */
  private stalled(conn: Connection, stalled: boolean): void {
    if (conn.stalled === stalled) return;
    const before = this.allStalled();
    conn.stalled = stalled;
    const after = this.allStalled();
    if (before !== after) this.ctx.progress.artifact(this.artifact.key, after ? 'stalled' : 'downloading');
  }

  private allStalled(): boolean {
    return this.connections.size > 0 && [...this.connections].every((c) => c.stalled);
  }

  /** A range request must be answered with exactly that range of the same file, or ranges cannot work. */
  private judgeRange(res: TransportResponse, first: number, last: number): void {
    const cr = res.header('content-range')?.trim() ?? '';
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(cr);
    const etag = this.start.res.header('etag');
    const same =
      res.status === 206 &&
      m !== null &&
      Number(m[1]) === first &&
      Number(m[2]) === last &&
      (m[3] === '*' || Number(m[3]) === this.artifact.sizeBytes) &&
      (!etag || !res.header('etag') || res.header('etag') === etag);
    if (same) return;
    res.cancel();
    if (res.status !== 200 && res.status !== 206 && res.status !== 416) {
      // A plain error (a 503) says nothing about ranges: one connection fewer, or the attempt's error.
      throw new HttpStatusError(this.url, res.status, parseRetryAfter(res.header('retry-after')));
    }
    throw new OneStreamInstead(
      res.status === 206
        ? `bytes ${first}-${last} were answered with ${cr || 'no Content-Range'}${
            etag && res.header('etag') !== etag ? ' of another version' : ''
          }`
        : `a range request was answered ${res.status}`,
    );
  }

  /** Puts bytes into the file: to the writer when they continue the prefix, else at their offset. */
  private async place(span: Span, bytes: Uint8Array): Promise<void> {
    try {
      if (span.at === this.frontier && span.inFlight === 0 && !this.absorbing) {
        span.at += bytes.length;
        this.frontier += bytes.length;
        // Only the transfer's own end may cut this short, never one connection's (a retire):
        // the writer's offset must stay where `frontier` says for whoever writes next.
        const full = this.writer.write(bytes, this.signal);
        if (full) await full;
        // The end of this span: the next may hold bytes that came ahead.
        if (span.at === span.end) this.kick();
        return;
      }
      const at = span.at + span.inFlight;
      span.inFlight += bytes.length;
      try {
        await this.writer.writeAt(bytes, at);
      } finally {
        span.inFlight -= bytes.length;
      }
      span.at = at + bytes.length;
      this.unrecorded += bytes.length;
      if (this.unrecorded >= CHECKPOINT_BYTES) void this.checkpoint();
    } catch (err) {
      // Cut short by the transfer's end (a cancel, a sibling's failure): that end is the story.
      if (this.signal.aborted) throw err;
      throw new WriteFailed(fsError(`cannot write ${partialPath(this.finalPath)}`, this.dir(), err));
    }
    this.kick();
  }

  /** Starts hashing what has arrived ahead, if anything waits at the prefix. */
  private kick(): void {
    // After an abort nothing more is hashed: the partial is about to be kept as it stands.
    if (this.absorbing || this.signal.aborted || this.failure !== undefined) return;
    this.spans.dropBefore(this.frontier);
    const span = this.spans.at(this.frontier);
    if (!span || span.at <= this.frontier) return;
    this.absorbing = this.advance().finally(() => {
      this.absorbing = undefined;
    });
    this.absorbing.catch((err: unknown) => {
      if (this.failure === undefined) {
        this.failure = err;
        this.stop.abort();
      }
    });
  }

  /** Hashes every byte in the file that continues the prefix. */
  private async advance(): Promise<void> {
    await this.absorbing;
    for (;;) {
      if (this.signal.aborted || this.failure !== undefined) return;
      const span = this.spans.at(this.frontier);
      if (!span || span.at <= this.frontier) break;
      const length = span.at - this.frontier;
      try {
        await this.writer.absorb(length, this.signal);
      } catch (err) {
        if (this.signal.aborted) throw this.failure ?? new CancelError();
        throw fsError(`cannot read ${partialPath(this.finalPath)}`, this.dir(), err);
      }
      this.frontier += length;
      this.spans.dropBefore(this.frontier);
    }
  }

  /** The ramp's judgment, every WINDOW_MS: more connections while the total rate grows. */
  private ramp(): void {
    const rate = ((this.received - this.windowBytes) * 1000) / WINDOW_MS;
    this.windowBytes = this.received;
    for (const conn of this.connections) {
      conn.span.rate = (conn.bytes * 1000) / WINDOW_MS;
      conn.bytes = 0;
    }
    if (this.settled || this.connections.size < this.target) return;
    if (this.target > 1 && rate < this.lastRate * GROWTH) {
      // The last step bought nothing (the link, not the server, is the limit): back to the level before.
      this.settled = true;
      this.target = Math.max(1, this.target >> 1);
      const extra = [...this.connections].slice(this.target);
      for (const conn of extra) {
        conn.retired = true;
        conn.controller.abort();
      }
      return;
    }
    this.lastRate = rate;
    this.grow(Math.min(this.target * 2, this.ctx.maxConnections));
  }

  /** Opens connections up to `target`, each taking the tail of the span that would finish last. */
  private grow(target: number): void {
    if (this.signal.aborted) return;
    if (target <= this.target && this.connections.size >= this.target) {
      this.settled = true;
      return;
    }
    this.target = target;
    void this.recordRanges().then(
      () => {
        while (this.connections.size < this.target && !this.signal.aborted) {
          if (!this.ctx.connections?.tryOpen()) break;
          const span = this.spans.claim(this.averageRate(), MIN_PIECE_BYTES);
          if (!span) {
            this.ctx.connections?.close();
            this.settled = true;
            break;
          }
          this.launch(span);
        }
      },
      () => {},
    );
  }

  /**
   * Before the first byte lands out of order, the sidecar must say which
   * ranges are whole: a sidecar without ranges means "the file is one prefix".
   */
  private async recordRanges(): Promise<void> {
    if (this.recorded) return;
    // Until that write succeeds, no helper starts: nothing lands out of order unrecorded.
    if (!(await this.checkpoint())) throw new Error('the ranges could not be recorded');
    this.recorded = true;
  }

  /** Records the ranges in the file (one write at a time; a failed one waits for the next). */
  private checkpoint(): Promise<boolean> {
    if (this.checkpointing) return this.checkpointing;
    this.unrecorded = 0;
    const ranges = this.spans.ranges(this.writer.writtenTo(), this.frontier);
    this.checkpointing = writePartialMeta(this.finalPath, { ...this.start.meta, ranges })
      .then(
        () => true,
        () => false,
      )
      .finally(() => {
        this.checkpointing = undefined;
      });
    return this.checkpointing;
  }

  private averageRate(): number {
    let sum = 0;
    for (const c of this.connections) sum += c.span.rate;
    return this.connections.size > 0 ? sum / this.connections.size : 0;
  }

  private dir(): string {
    return path.dirname(this.finalPath);
  }
}

/** The first response brought more than the manifest declares. */
export class TooLong extends Error {}
/** The first response ended at `at`, short of the manifest's size. */
export class TooShort extends Error {
  constructor(readonly at: number) {
    super(`ended at ${at}`);
  }
}
/** A write to the partial failed: the coded error, not the request's. */
class WriteFailed extends Error {
  constructor(readonly coded: VmCacheError) {
    super(coded.message, { cause: coded });
  }
}
