// One artifact, one attempt, one pass over the bytes: response -> sha256 ->
// `<key>.partial`, then fsync and rename. Resumes a kept partial with Range +
// If-Range and accepts only a 206 that continues exactly where it stopped.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fsyncDir, statOrUndefined } from './atomic.js';
import { CancelError, fsError, HttpStatusError, Sha256MismatchError, type VmCacheError } from './errors.js';
import { keyUrl } from './keys.js';
import type { SelectedArtifact } from './manifest.js';
import { openPartialFile } from './open-partial.js';
import type { ImportMode } from './options.js';
import { discardPartial, findResumePoint, type ResumePoint, writePartialMeta } from './partial.js';
import type { PartialFile, WriterKind } from './partial-file.js';
import { partialMetaPath, partialPath } from './paths.js';
import type { ProgressTracker } from './progress.js';
import type { RateLimit } from './rate-limit.js';
import { type ActiveRequest, parseRetryAfter, startRequest, watchStall } from './request.js';
import type { ArtifactRoots } from './roots.js';
import type { Transport, TransportResponse } from './transport.js';

export interface DownloadContext {
  transport: Transport;
  /** Where this attempt fetches from (the manifest's root, or a mirror). */
  artifactRoot: string;
  /** Every root the sync may fetch tarballs from, and their credentials. */
  roots: ArtifactRoots;
  signal: AbortSignal | undefined;
  timeoutMs: number;
  stallTimeoutMs: number;
  allowInsecureHttp: boolean;
  progress: ProgressTracker;
  /** How partials are written and hashed (the engine's `writer` option). */
  writer: WriterKind;
  /** An import stages every file (all or nothing) and names its source in a mismatch. */
  importing: ImportMode | undefined;
  /** The sync's bandwidth cap, shared by all its connections. */
  limiter: RateLimit | undefined;
}

/**
 * What became of a verified download: renamed into place, or left whole and
 * verified in `<key>.partial` because a file of that name is still there,
 * which the cached manifest may vouch for; the sync swaps those in at commit,
 * so a failure before then leaves the last good cache exactly as it was.
 */
export type DownloadOutcome = 'installed' | 'staged';

/** Downloads `artifact` to `finalPath` (one attempt). */
export async function downloadArtifact(
  ctx: DownloadContext,
  artifact: SelectedArtifact,
  finalPath: string,
  attempt: number,
): Promise<DownloadOutcome> {
  const partial = partialPath(finalPath);
  await mkdirFor(finalPath);
  const resume = await findResumePoint(finalPath, artifact);
  if (!resume) return requestRest(ctx, artifact, finalPath, attempt, undefined);

  const whole = resume.offset === artifact.sizeBytes;
  ctx.progress.artifact(artifact.key, whole ? 'verifying' : 'downloading', {
    receivedBytes: resume.offset,
    attempt,
  });
  // The writer's thread hashes the kept bytes first. The request for the rest
  // waits for that: an idle connection meanwhile could hit the server's (or
  // got's) idle timeout on a prefix of many GB, and fail every retry alike.
  const writer = await openWriter(ctx, partial, resume.offset);
  let handed = false;
  try {
    if (!whole) {
      await writer.keptHashed(ctx.signal);
      handed = true;
      return await requestRest(ctx, artifact, finalPath, attempt, { ...resume, writer });
    }
    // A partial that is already whole (a crash between fsync and rename) needs no request.
    if ((await writer.digest(ctx.signal)) !== artifact.sha256) {
      await writer.abandon();
      await discardPartial(finalPath);
      handed = true;
      return await requestRest(ctx, artifact, finalPath, attempt, undefined);
    }
    await writer.finish();
    const outcome = await installOrStage(ctx, finalPath);
    ctx.progress.artifact(artifact.key, 'verified');
    return outcome;
  } catch (err) {
    if (handed) throw err;
    if (ctx.signal?.aborted) throw new CancelError();
    throw fsError(`cannot use ${partial}`, path.dirname(partial), err);
  } finally {
    if (!handed) await writer.abandon();
  }
}

/** A kept partial and the writer that already holds (and is hashing) its bytes. */
type Resume = ResumePoint & { writer: PartialFile };

async function requestRest(
  ctx: DownloadContext,
  artifact: SelectedArtifact,
  finalPath: string,
  attempt: number,
  kept: Resume | undefined,
): Promise<DownloadOutcome> {
  let resume = kept;
  try {
    const url = keyUrl(ctx.artifactRoot, artifact.key);
    ctx.progress.artifact(artifact.key, 'downloading', { receivedBytes: resume?.offset ?? 0, attempt });
    let { request, response } = open(ctx, url, resume);
    let res = await response;
    try {
      // An error answer (503, 404, 429...) says nothing about the kept bytes: they stay for the next try.
      const judged = res.status === 200 || res.status === 206 || res.status === 416;
      if (resume && judged && !continuesAt(res, resume, artifact.sizeBytes, sameRoot(ctx, resume))) {
        // 416, a moved start or a changed validator: the kept bytes are for another file.
        const isFullBody = res.status === 200;
        const stale = resume;
        resume = undefined;
        await stale.writer.abandon();
        await discardPartial(finalPath);
        ctx.progress.artifact(artifact.key, 'downloading', { receivedBytes: 0 });
        if (!isFullBody) {
          res.cancel();
          request.done();
          ({ request, response } = open(ctx, url, undefined));
          res = await response;
        }
      }
      if (res.status !== 200 && !(res.status === 206 && resume)) {
        if (res.status === 206) throw new HttpStatusError(url, 206);
        throw new HttpStatusError(url, res.status, parseRetryAfter(res.header('retry-after')));
      }
      if (resume && !sameRoot(ctx, resume)) {
        // Going on from another root's bytes: from now on this root's validator guards a resume.
        const { sha256, sizeBytes } = resume.meta;
        resume.meta = { sha256, sizeBytes, ...validatorsOf(res), root: ctx.artifactRoot };
        try {
          await writePartialMeta(finalPath, resume.meta);
        } catch (err) {
          throw fsError(`cannot write ${partialPath(finalPath)}`, path.dirname(finalPath), err);
        }
      }
      // From here `receive` owns the writer.
      const handed = resume;
      resume = undefined;
      return await receive(ctx, artifact, finalPath, res, request, handed);
    } finally {
      res.cancel();
      request.done();
    }
  } finally {
    await resume?.writer.abandon();
  }
}

function open(ctx: DownloadContext, url: string, resume: ResumePoint | undefined) {
  // Tarballs must arrive byte for byte: no transfer compression, or ranges and hashes stop lining up.
  // A server may encode anyway (object metadata saying gzip): `raw` keeps its bytes as sent.
  const headers: Record<string, string> = {
    'accept-encoding': 'identity',
    ...ctx.roots.headersFor(ctx.artifactRoot),
  };
  if (resume) {
    headers.range = `bytes=${resume.offset}-`;
    // Another root's validator means nothing here (mirrors tag the same bytes differently): the
    // rest is asked for as is, and the sha256 at the end judges the whole.
    if (sameRoot(ctx, resume)) headers['if-range'] = resume.validator;
  }
  return startRequest(ctx.transport, url, {
    signal: ctx.signal,
    timeoutMs: ctx.timeoutMs,
    headers,
    allowInsecureHttp: ctx.allowInsecureHttp,
    raw: true,
  });
}

/** True when `res` is a 206 that continues the kept bytes (of the same file, when the root is the same). */
function continuesAt(
  res: TransportResponse,
  resume: ResumePoint,
  size: number,
  sameRootAsKept: boolean,
): boolean {
  if (res.status !== 206) return false;
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.header('content-range')?.trim() ?? '');
  if (!m || Number(m[1]) !== resume.offset) return false;
  if (m[3] !== '*' && Number(m[3]) !== size) return false;
  const etag = res.header('etag');
  if (sameRootAsKept && resume.meta.etag && etag && etag !== resume.meta.etag) return false;
  return true;
}

/** True when the kept partial's validator came from the root this attempt fetches from (a sidecar that names none: the manifest's). */
function sameRoot(ctx: DownloadContext, resume: ResumePoint): boolean {
  return (resume.meta.root ?? ctx.roots.home) === ctx.artifactRoot;
}

function validatorsOf(res: TransportResponse): { etag?: string; lastModified?: string } {
  const etag = res.header('etag');
  const lastModified = res.header('last-modified');
  return { ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
}

async function receive(
  ctx: DownloadContext,
  artifact: SelectedArtifact,
  finalPath: string,
  res: TransportResponse,
  request: ActiveRequest,
  resume: Resume | undefined,
): Promise<DownloadOutcome> {
  const partial = partialPath(finalPath);
  const dir = path.dirname(finalPath);
  let received = resume?.offset ?? 0;
  let writer: PartialFile;
  if (resume) writer = resume.writer;
  else {
    try {
      // The sidecar goes down before the first byte, so a partial is never without one.
      await writePartialMeta(finalPath, {
        sha256: artifact.sha256,
        sizeBytes: artifact.sizeBytes,
        ...validatorsOf(res),
        root: ctx.artifactRoot,
      });
      writer = await openWriter(ctx, partial, 0);
    } catch (err) {
      throw request.errorFor(fsError(`cannot write ${partial}`, dir, err));
    }
  }

  const signal = request.controller.signal;
  const stall = watchStall(request, ctx.stallTimeoutMs, (stalled) =>
    ctx.progress.artifact(artifact.key, stalled ? 'stalled' : 'downloading'),
  );
  let failure: VmCacheError | undefined;
  let outcome: DownloadOutcome = 'staged';
  try {
    for await (const chunk of res.body) {
      stall.tick();
      if (received + chunk.length > artifact.sizeBytes) {
        // Cut off at once: never more than sizeBytes on disk.
        throw mismatch(
          ctx,
          artifact,
          `more than the ${artifact.sizeBytes} bytes the manifest declares arrived`,
        );
      }
      received += chunk.length;
      ctx.progress.addBytes(artifact.key, chunk.length);
      // Waiting for the cap is not a stall: the watch is told while it waits.
      if (ctx.limiter) await ctx.limiter.take(chunk.length, signal, () => stall.tick());
      try {
        const full = writer.write(chunk, signal);
        if (full) await full;
      } catch (err) {
        throw fsError(`cannot write ${partial}`, dir, err);
      }
    }
    stall.stop();
    ctx.progress.artifact(artifact.key, 'verifying');
    const actual = await writer.digest(signal).catch((err: unknown) => {
      throw fsError(`cannot write ${partial}`, dir, err);
    });
    if (actual !== artifact.sha256) {
      throw mismatch(
        ctx,
        artifact,
        received === artifact.sizeBytes
          ? `got ${actual}`
          : `got ${actual} over ${received} of ${artifact.sizeBytes} bytes`,
      );
    }
    try {
      await writer.finish();
      outcome = await installOrStage(ctx, finalPath);
    } catch (err) {
      throw fsError(`cannot finish ${finalPath}`, dir, err);
    }
  } catch (err) {
    const coded = request.errorFor(err);
    failure = coded;
    throw coded;
  } finally {
    stall.stop();
    if (failure) {
      await writer.abandon();
      // Bad bytes and a full disk leave nothing behind; anything else keeps the partial to resume.
      if (failure.code === 'ERR_SHA256_MISMATCH' || failure.code === 'ERR_DISK_FULL')
        await discardPartial(finalPath);
    }
  }
  ctx.progress.artifact(artifact.key, 'verified');
  return outcome;
}

function mismatch(ctx: DownloadContext, artifact: SelectedArtifact, detail: string): VmCacheError {
  return ctx.importing
    ? ctx.importing.mismatch(artifact, detail)
    : new Sha256MismatchError(artifact.key, artifact.sha256, detail);
}

export async function openWriter(
  ctx: DownloadContext,
  partial: string,
  offset: number,
): Promise<PartialFile> {
  try {
    return await openPartialFile(ctx.writer, partial, offset);
  } catch (err) {
    throw fsError(`cannot write ${partial}`, path.dirname(partial), err);
  }
}

/**
 * Renames a verified partial into place, unless that would replace a file, or
 * the run is an import (all or nothing): then it stays staged for the commit.
 */
export async function installOrStage(ctx: DownloadContext, finalPath: string): Promise<DownloadOutcome> {
  if (ctx.importing || (await statOrUndefined(finalPath))) return 'staged';
  await installPartial(finalPath);
  return 'installed';
}

/** The partial becomes the tarball: rename, then forget the resume sidecar. */
export async function installPartial(finalPath: string): Promise<void> {
  await fs.rename(partialPath(finalPath), finalPath);
  await fs.rm(partialMetaPath(finalPath), { force: true });
  await fsyncDir(path.dirname(finalPath));
}

export async function mkdirFor(finalPath: string): Promise<void> {
  try {
    await fs.mkdir(path.dirname(finalPath), { recursive: true });
  } catch (err) {
    throw fsError(`cannot create ${path.dirname(finalPath)}`, path.dirname(finalPath), err);
  }
}
