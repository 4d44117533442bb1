// One artifact, one attempt, one pass over the bytes: response -> sha256 ->
// `<key>.partial`, then fsync and rename. Resumes a kept partial with Range +
// If-Range and accepts only a 206 that continues exactly where it stopped.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fsyncDir, statOrUndefined } from './atomic.js';
import type { DownloadContext } from './download-context.js';
import { CancelError, fsError, HttpStatusError, Sha256MismatchError, VmCacheError } from './errors.js';
import { keyUrl } from './keys.js';
import type { SelectedArtifact } from './manifest.js';
import { openPartialFile } from './open-partial.js';
import {
  discardPartial,
  findResumePoint,
  keptBytes,
  type PartialMeta,
  type ResumePoint,
  writePartialMeta,
} from './partial.js';
import type { PartialFile } from './partial-file.js';
import { partialMetaPath, partialPath } from './paths.js';
import { type ActiveRequest, parseRetryAfter, startRequest } from './request.js';
import { OneStreamInstead, TooLong, TooShort, Transfer } from './transfer.js';
import type { TransportResponse } from './transport.js';

/**
 * What became of a verified download: renamed into place, or left whole and
 * verified in `<key>.partial` because a file of that name is still there,
 * which the cached manifest may vouch for; the sync swaps those in at commit,
 * so a failure before then leaves the last good cache exactly as it was.
 */
export type DownloadOutcome = 'installed' | 'staged';

/**
 * Downloads `artifact` to `finalPath` (one attempt): over several connections
 * when the server answers ranges and that helps, else, or once a server
 * answers a range wrongly, over one from the bytes in order.
 */
export async function downloadArtifact(
  ctx: DownloadContext,
  artifact: SelectedArtifact,
  finalPath: string,
  attempt: number,
): Promise<DownloadOutcome> {
  try {
    return await downloadOnce(ctx, artifact, finalPath, attempt, true);
  } catch (err) {
    if (!(err instanceof OneStreamInstead)) throw err;
    // The partial now keeps only its prefix: one connection goes on from there.
    return downloadOnce(ctx, artifact, finalPath, attempt, false);
  }
}

async function downloadOnce(
  ctx: DownloadContext,
  artifact: SelectedArtifact,
  finalPath: string,
  attempt: number,
  ranges: boolean,
): Promise<DownloadOutcome> {
  const partial = partialPath(finalPath);
  await mkdirFor(finalPath);
  const resume = await findResumePoint(finalPath, artifact);
  if (!resume) return requestRest(ctx, artifact, finalPath, attempt, undefined, ranges);
  if (resume.done.length > 0 && (!ranges || ctx.maxConnections < 2 || ctx.importing)) {
    // Ranges past the prefix need range requests of their own: on one stream only the prefix counts.
    resume.done = [];
    resume.meta = { ...resume.meta, ranges: resume.offset > 0 ? [[0, resume.offset]] : [] };
    try {
      await writePartialMeta(finalPath, resume.meta);
    } catch (err) {
      throw fsError(`cannot write ${partial}`, path.dirname(partial), err);
    }
  }

  const whole = resume.offset === artifact.sizeBytes;
  ctx.progress.artifact(artifact.key, whole ? 'verifying' : 'downloading', {
    receivedBytes: keptBytes(resume),
    attempt,
  });
  // The writer's thread hashes the kept bytes first. The request for the rest
  // waits for that: an idle connection meanwhile could hit the server's (or
  // got's) idle timeout on a prefix of many GB, and fail every retry alike.
  const writer = await openWriter(ctx, partial, resume.offset, resume.done.length > 0);
  let handed = false;
  try {
    if (!whole) {
      await writer.keptHashed(ctx.signal);
      handed = true;
      return await requestRest(ctx, artifact, finalPath, attempt, { ...resume, writer }, ranges);
    }
    // A partial that is already whole (a crash between fsync and rename) needs no request.
    if ((await writer.digest(ctx.signal)) !== artifact.sha256) {
      await writer.abandon();
      await discardPartial(finalPath);
      handed = true;
      return await requestRest(ctx, artifact, finalPath, attempt, undefined, ranges);
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
  ranges: boolean,
): Promise<DownloadOutcome> {
  let resume = kept;
  try {
    const url = keyUrl(ctx.artifactRoot, artifact.key);
    ctx.progress.artifact(artifact.key, 'downloading', {
      receivedBytes: resume ? keptBytes(resume) : 0,
      attempt,
    });
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
        const { sha256, sizeBytes, ranges } = resume.meta;
        // The ranges stay: the file still holds them (and its holes).
        resume.meta = {
          sha256,
          sizeBytes,
          ...validatorsOf(res),
          root: ctx.artifactRoot,
          ...(ranges ? { ranges } : {}),
        };
        try {
          await writePartialMeta(finalPath, resume.meta);
        } catch (err) {
          throw fsError(`cannot write ${partialPath(finalPath)}`, path.dirname(finalPath), err);
        }
      }
      // From here `receive` owns the writer.
      const handed = resume;
      resume = undefined;
      return await receive(ctx, artifact, finalPath, res, request, handed, ranges);
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
  ranges: boolean,
): Promise<DownloadOutcome> {
  const partial = partialPath(finalPath);
  const dir = path.dirname(finalPath);
  const size = artifact.sizeBytes;
  let writer: PartialFile;
  let meta: PartialMeta;
  if (resume) ({ writer, meta } = resume);
  else {
    meta = { sha256: artifact.sha256, sizeBytes: size, ...validatorsOf(res), root: ctx.artifactRoot };
    try {
      // The sidecar goes down before the first byte, so a partial is never without one.
      await writePartialMeta(finalPath, meta);
      writer = await openWriter(ctx, partial, 0);
    } catch (err) {
      throw request.errorFor(fsError(`cannot write ${partial}`, dir, err));
    }
  }

  const transfer = new Transfer(
    ctx,
    artifact,
    finalPath,
    writer,
    { res, request, from: resume?.offset ?? 0, done: resume?.done ?? [], meta },
    ranges,
  );
  let failure: unknown;
  let outcome: DownloadOutcome = 'staged';
  try {
    try {
      await transfer.run();
    } catch (err) {
      // Cut off at once: never more than sizeBytes on disk.
      if (err instanceof TooLong)
        throw mismatch(ctx, artifact, `more than the ${size} bytes the manifest declares arrived`);
      if (err instanceof TooShort)
        throw mismatch(ctx, artifact, `only ${err.at} of the ${size} bytes the manifest declares arrived`);
      // Coded already, per connection: a sibling's reaction to it must not hide it.
      throw err instanceof VmCacheError || err instanceof OneStreamInstead ? new Settled(err) : err;
    }
    ctx.progress.artifact(artifact.key, 'verifying');
    const actual = await writer.digest(ctx.signal).catch((err: unknown) => {
      throw fsError(`cannot write ${partial}`, dir, err);
    });
    if (actual !== artifact.sha256) throw mismatch(ctx, artifact, `got ${actual}`);
    try {
      await writer.finish();
      outcome = await installOrStage(ctx, finalPath);
      // Staged for the commit, the partial is whole: its sidecar says one prefix again. (Installed, it has none.)
      if (outcome === 'staged' && transfer.recordedRanges) {
        const { ranges: _whole, ...whole } = meta;
        await writePartialMeta(finalPath, whole);
      }
    } catch (err) {
      throw fsError(`cannot finish ${finalPath}`, dir, err);
    }
  } catch (err) {
    failure =
      err instanceof Settled ? err.error : ctx.signal?.aborted ? new CancelError() : request.errorFor(err);
    throw failure;
  } finally {
    if (failure !== undefined) {
      await writer.abandon();
      const code = failure instanceof VmCacheError ? failure.code : undefined;
      // Bad bytes and a full disk leave nothing behind; anything else keeps the partial to resume.
      if (code === 'ERR_SHA256_MISMATCH' || code === 'ERR_DISK_FULL') await discardPartial(finalPath);
      else await transfer.keepForResume(failure instanceof OneStreamInstead).catch(() => {});
    }
  }
  ctx.progress.artifact(artifact.key, 'verified');
  return outcome;
}

/** An error a transfer already settled on: passed through as is. */
class Settled extends Error {
  constructor(readonly error: VmCacheError | OneStreamInstead) {
    super(error.message);
  }
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
  keepAfter = false,
): Promise<PartialFile> {
  try {
    return await openPartialFile(ctx.writer, partial, offset, keepAfter);
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
