// A delta update of one tarball, one attempt: the new tarball is written in
// order into `<key>.partial`, each chunk either copied from a cached file or
// taken from a byte range of the server, and every chunk checked against the
// index before it is written. The partial writer hashes the whole file in the
// same pass, and the manifest's sha256 decides at the end, as for any download.
//
// Writing in order keeps everything a download has: one pass, a partial that
// is a verified prefix (a crash resumes at the last whole chunk), the same
// commit. Ranges are fetched a few at a time ahead of the writer, each at most
// PIECE_MAX_BYTES, so memory stays bounded however large the changed region.
//
// Anything that shows the plan cannot work (a server that ignores Range, bytes
// that do not match the index, chunks that do not add up to the sha256) ends
// the delta: the partial goes, and the caller downloads the tarball whole.

import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Chunk } from './chunk-index.js';
import type { LocalChunk } from './delta-plan.js';
import type { DeltaSource } from './delta-source.js';
import { type DownloadOutcome, installOrStage, mkdirFor, openWriter } from './download.js';
import type { DownloadContext } from './download-context.js';
import { CancelError, fsError, HttpStatusError, NetworkError, VmCacheError } from './errors.js';
import { sha256Hex } from './hash.js';
import { keyUrl } from './keys.js';
import type { SelectedArtifact } from './manifest.js';
import { discardPartial, keptForDelta, writePartialMeta } from './partial.js';
import { partialPath } from './paths.js';
import { parseRetryAfter, startRequest, watchStall } from './request.js';

/** The most bytes one range request asks for (and holds in memory until it is placed). */
export const PIECE_MAX_BYTES = 4 << 20;

/** Damaged local chunks fetched one by one before the plan is given up as not worth it. */
const MAX_REPLACED_CHUNKS = 32;

/** The delta was placed; or it cannot work for this tarball, and why. */
export type DeltaOutcome = DownloadOutcome | { fallback: string };

/** The plan cannot work (the server, the index): the tarball is downloaded whole instead. */
export class WholeInstead extends Error {}

type Step =
  | { kind: 'copy'; chunk: Chunk; from: LocalChunk }
  | { kind: 'fetch'; offset: number; length: number; chunks: Chunk[] };

export async function downloadDelta(
  ctx: DownloadContext,
  artifact: SelectedArtifact,
  finalPath: string,
  attempt: number,
  source: DeltaSource,
  rangesAtOnce: number,
): Promise<DeltaOutcome> {
  const partial = partialPath(finalPath);
  const dir = path.dirname(finalPath);
  const { key } = artifact;
  await mkdirFor(finalPath);
  let kept: number;
  try {
    kept = await keptForDelta(finalPath, artifact);
    // The sidecar goes down before the first byte, so a partial is never without one.
    await writePartialMeta(finalPath, {
      sha256: artifact.sha256,
      sizeBytes: artifact.sizeBytes,
      delta: source.indexSha256,
    });
  } catch (err) {
    throw fsError(`cannot use ${partial}`, dir, err);
  }
  // Go on from the last whole chunk the partial holds.
  const { chunks } = source.index;
  let first = 0;
  let offset = 0;
  while (first < chunks.length && offset + chunks[first]!.length <= kept) offset += chunks[first++]!.length;

  const writer = await openWriter(ctx, partial, offset);
  const stop = new AbortController();
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, stop.signal]) : stop.signal;
  const reader = new LocalReader();
  const fetcher = new RangeFetcher(ctx, artifact, keyUrl(ctx.artifactRoot, key), signal, rangesAtOnce);
  let placed = false;
  let fallback: string | undefined;
  let failure: VmCacheError | undefined;

  const put = async (bytes: Uint8Array) => {
    try {
      const full = writer.write(bytes, signal);
      if (full) await full;
    } catch (err) {
      if (ctx.signal?.aborted) throw new CancelError();
      throw fsError(`cannot write ${partial}`, dir, err);
    }
  };
  const placeFetched = async (bytes: Buffer, start: number, pieceChunks: Chunk[]) => {
    for (const c of pieceChunks) {
      const piece = bytes.subarray(c.offset - start, c.offset - start + c.length);
      if (sha256Hex(piece) !== c.sha256) {
        throw new WholeInstead(
          `bytes ${c.offset}-${c.offset + c.length - 1} from the server do not match its chunk index`,
        );
      }
      await put(piece);
    }
  };

  try {
    await writer.keptHashed(signal);
    let reusedBefore = 0;
    for (const [at, from] of source.reuse) if (at < offset) reusedBefore += from.length;
    ctx.progress.artifact(key, 'downloading', { receivedBytes: offset, attempt });
    ctx.progress.delta(key, {
      reuseBytes: source.reuseBytes,
      fetchBytes: source.fetchBytes,
      reusedBytes: reusedBefore,
    });

    const steps = stepsFrom(chunks, first, source.reuse);
    fetcher.plan(steps);
    let replaced = 0;
    for (let i = 0; i < steps.length; i++) {
      // Copies never wait on the network: a cancel must not wait for the writer to push back.
      if (ctx.signal?.aborted) throw new CancelError();
      const step = steps[i]!;
      if (step.kind === 'fetch') {
        await placeFetched(await fetcher.take(i), step.offset, step.chunks);
        continue;
      }
      const bytes = await reader.read(step.from);
      // A cached file gone or cut short since it was indexed: the plan no longer holds.
      if (!bytes) throw new WholeInstead(`${step.from.file} could not be read as indexed`);
      if (sha256Hex(bytes) === step.chunk.sha256) {
        await put(bytes);
        ctx.progress.addReused(key, bytes.length);
      } else if (++replaced <= MAX_REPLACED_CHUNKS) {
        // A few damaged chunks in a cached file (a bad sector, an edit) come from the server one by one.
        await placeFetched(await fetcher.fetchNow(step.chunk), step.chunk.offset, [step.chunk]);
      } else {
        throw new WholeInstead(`more than ${MAX_REPLACED_CHUNKS} chunks of the cached files no longer match`);
      }
    }

    ctx.progress.artifact(key, 'verifying');
    const actual = await writer.digest(signal).catch((err: unknown) => {
      if (ctx.signal?.aborted) throw new CancelError();
      throw fsError(`cannot write ${partial}`, dir, err);
    });
    if (actual !== artifact.sha256)
      throw new WholeInstead(`its chunks put together have sha256 ${actual}, not the manifest's`);
    let outcome: DownloadOutcome;
    try {
      await writer.finish();
      outcome = await installOrStage(ctx, finalPath);
    } catch (err) {
      throw fsError(`cannot finish ${finalPath}`, dir, err);
    }
    placed = true;
    ctx.progress.artifact(key, 'verified');
    return outcome;
  } catch (err) {
    const settled = settle(ctx, err, `cannot download ${key}`, dir);
    if (settled instanceof VmCacheError) {
      failure = settled;
      throw settled;
    }
    fallback = settled.fallback;
    return settled;
  } finally {
    stop.abort();
    fetcher.close();
    await reader.close();
    if (!placed) {
      await writer.abandon();
      // A plan that cannot work and a full disk leave nothing; anything else keeps the verified prefix.
      if (fallback !== undefined || failure?.code === 'ERR_DISK_FULL') await discardPartial(finalPath);
    }
  }
}

/**
 * How a delta or a repair that threw ends: the plan could not work (the caller
 * downloads whole), or the coded error (a cancel wins over whatever it caused).
 */
export function settle(
  ctx: DownloadContext,
  err: unknown,
  what: string,
  dir: string,
): { fallback: string } | VmCacheError {
  if (err instanceof WholeInstead) return { fallback: err.message };
  if (ctx.signal?.aborted) return new CancelError();
  return err instanceof VmCacheError ? err : fsError(what, dir, err);
}

/** The work from chunk `first` on: copies, and runs of missing chunks cut into pieces. */
function stepsFrom(chunks: readonly Chunk[], first: number, reuse: ReadonlyMap<number, LocalChunk>): Step[] {
  const steps: Step[] = [];
  let run: Extract<Step, { kind: 'fetch' }> | undefined;
  for (let i = first; i < chunks.length; i++) {
    const chunk = chunks[i]!;
    const from = reuse.get(chunk.offset);
    if (from) {
      run = undefined;
      steps.push({ kind: 'copy', chunk, from });
    } else if (run && run.length + chunk.length <= PIECE_MAX_BYTES) {
      run.length += chunk.length;
      run.chunks.push(chunk);
    } else {
      run = { kind: 'fetch', offset: chunk.offset, length: chunk.length, chunks: [chunk] };
      steps.push(run);
    }
  }
  return steps;
}

/**
 * Byte ranges of the new tarball, a few requests ahead of the writer: at most
 * `atOnce` pieces are asked for or held at a time.
 */
class RangeFetcher {
  private fetchSteps: number[] = [];
  private next = 0;
  private readonly started = new Map<number, Promise<Buffer>>();
  private steps: Step[] = [];

  constructor(
    private readonly ctx: DownloadContext,
    private readonly artifact: SelectedArtifact,
    private readonly url: string,
    private readonly signal: AbortSignal,
    private readonly atOnce: number,
  ) {}

  plan(steps: Step[]): void {
    this.steps = steps;
    this.fetchSteps = steps.flatMap((s, i) => (s.kind === 'fetch' ? [i] : []));
    this.fill();
  }

  /** The bytes of fetch step `i` (the next one in order). */
  async take(i: number): Promise<Buffer> {
    const pending = this.started.get(i) ?? this.fetchRange(this.steps[i] as Extract<Step, { kind: 'fetch' }>);
    this.started.delete(i);
    this.next++;
    this.fill();
    return pending;
  }

  /** One chunk that was to be copied, asked for now. */
  fetchNow(chunk: Chunk): Promise<Buffer> {
    return this.fetchRange(chunk);
  }

  close(): void {
    this.started.clear();
  }

  private fill(): void {
    const end = Math.min(this.fetchSteps.length, this.next + this.atOnce);
    for (let n = this.next; n < end; n++) {
      const i = this.fetchSteps[n]!;
      if (this.started.has(i)) continue;
      const pending = this.fetchRange(this.steps[i] as Extract<Step, { kind: 'fetch' }>);
      // Awaited when its turn comes; until then a failure must not go unhandled.
      pending.catch(() => {});
      this.started.set(i, pending);
    }
  }

  private fetchRange(range: { offset: number; length: number }): Promise<Buffer> {
    return fetchRange(this.ctx, this.artifact, this.url, range, this.signal);
  }
}

/**
 * One single-range request for bytes of `artifact`, held in memory (at most
 * PIECE_MAX_BYTES). A 200 (Range ignored) or a 206 for other bytes throws
 * WholeInstead: no plan that places ranges can work with that server.
 */
export async function fetchRange(
  ctx: DownloadContext,
  artifact: SelectedArtifact,
  url: string,
  { offset, length }: { offset: number; length: number },
  signal: AbortSignal,
): Promise<Buffer> {
  const end = offset + length - 1;
  const { request, response } = startRequest(ctx.transport, url, {
    signal,
    timeoutMs: ctx.timeoutMs,
    headers: { 'accept-encoding': 'identity', range: `bytes=${offset}-${end}` },
    allowInsecureHttp: ctx.allowInsecureHttp,
    raw: true,
  });
  let res: Awaited<typeof response> | undefined;
  try {
    res = await response;
    if (res.status === 200) throw new WholeInstead('the server does not answer byte ranges');
    if (res.status !== 206)
      throw new HttpStatusError(url, res.status, parseRetryAfter(res.header('retry-after')));
    const range = res.header('content-range')?.trim() ?? '';
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range);
    if (
      !m ||
      Number(m[1]) !== offset ||
      Number(m[2]) !== end ||
      (m[3] !== '*' && Number(m[3]) !== artifact.sizeBytes)
    )
      throw new WholeInstead(
        `the server answered bytes ${offset}-${end} with ${range || 'no Content-Range'}`,
      );
    const bytes = Buffer.allocUnsafe(length);
    let at = 0;
    const stall = watchStall(request, ctx.stallTimeoutMs, (stalled) =>
      ctx.progress.artifact(artifact.key, stalled ? 'stalled' : 'downloading'),
    );
    try {
      for await (const chunk of res.body) {
        stall.tick();
        if (at + chunk.length > length)
          throw new WholeInstead(`the server sent more than bytes ${offset}-${end}`);
        bytes.set(chunk, at);
        at += chunk.length;
        ctx.progress.addBytes(artifact.key, chunk.length);
        if (ctx.limiter) await ctx.limiter.take(chunk.length, signal, () => stall.tick());
      }
    } finally {
      stall.stop();
    }
    if (at < length) throw new NetworkError(url, new Error(`bytes ${offset}-${end} ended after ${at} bytes`));
    return bytes;
  } catch (err) {
    throw err instanceof WholeInstead ? err : request.errorFor(err);
  } finally {
    res?.cancel();
    request.done();
  }
}

/** Reads chunks of cached files, each file opened once. */
class LocalReader {
  private readonly handles = new Map<string, Promise<FileHandle | undefined>>();

  /** The chunk's bytes, or undefined when the file cannot give them (gone, shorter, unreadable). */
  async read(from: LocalChunk): Promise<Buffer | undefined> {
    let handle = this.handles.get(from.file);
    if (!handle) {
      handle = fs.open(from.file, 'r').catch(() => undefined);
      this.handles.set(from.file, handle);
    }
    const fh = await handle;
    if (!fh) return undefined;
    const bytes = Buffer.allocUnsafe(from.length);
    try {
      const { bytesRead } = await fh.read(bytes, 0, from.length, from.offset);
      return bytesRead === from.length ? bytes : undefined;
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    for (const handle of this.handles.values()) await (await handle)?.close().catch(() => {});
    this.handles.clear();
  }
}
