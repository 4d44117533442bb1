// Repair from chunks (issue #15): `verify` hashes a tarball chunk by chunk
// along its kept index, so it can say which byte ranges are bad; a damaged
// tarball is then kept as its own partial, with those ranges in the sidecar,
// and the next sync fetches only them, writes them in place and checks the
// whole sha256 again. No second copy of a multi-GB file is ever needed.
// Without a kept index the damage cannot be placed: verify removes the file,
// as it always did, and the next sync downloads it whole.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { isOwnRegularFile, lstatOrUndefined, O_NOFOLLOW, O_NONBLOCK } from './atomic.js';
import type { ChunkIndex } from './chunk-index.js';
import { type DeltaOutcome, fetchRange, PIECE_MAX_BYTES, settle, WholeInstead } from './delta-download.js';
import type { ByteRange } from './delta-plan.js';
import { installOrStage } from './download.js';
import type { DownloadContext } from './download-context.js';
import { fsError, VmCacheError } from './errors.js';
import { sha256File } from './hash.js';
import { keyUrl } from './keys.js';
import type { SelectedArtifact } from './manifest.js';
import { discardPartial, readPartialMeta, writePartialMeta } from './partial.js';
import { partialPath } from './paths.js';

/** One pass over `file`: its sha256, and the ranges of the chunks of `index` that do not match (merged). */
export async function hashByChunks(
  file: string,
  index: ChunkIndex,
  signal?: AbortSignal,
): Promise<{ sha256: string; bad: ByteRange[] }> {
  const whole = createHash('sha256');
  const bad: ByteRange[] = [];
  let i = 0;
  let left = index.chunks[0]?.length ?? 0;
  let piece = createHash('sha256');
  const close = () => {
    const chunk = index.chunks[i]!;
    if (piece.digest('hex') !== chunk.sha256) {
      const last = bad.at(-1);
      if (last && last.offset + last.length === chunk.offset) last.length += chunk.length;
      else bad.push({ offset: chunk.offset, length: chunk.length });
    }
    i += 1;
    piece = createHash('sha256');
    left = index.chunks[i]?.length ?? 0;
  };
  for await (const buf of createReadStream(file, {
    highWaterMark: 1 << 20,
    signal,
  }) as AsyncIterable<Buffer>) {
    whole.update(buf);
    let at = 0;
    while (at < buf.length && i < index.chunks.length) {
      const take = Math.min(left, buf.length - at);
      piece.update(buf.subarray(at, at + take));
      at += take;
      left -= take;
      if (left === 0) close();
    }
  }
  return { sha256: whole.digest('hex'), bad };
}

/**
 * Verify's part: keeps a damaged tarball as its partial, the bad ranges in its
 * sidecar (written first: a partial is never without one), for the next sync.
 */
export async function keepForRepair(
  finalPath: string,
  artifact: SelectedArtifact,
  bad: ByteRange[],
): Promise<boolean> {
  // A partial already there (a staged new version, a download to resume) is worth more than this.
  if (await lstatOrUndefined(partialPath(finalPath))) return false;
  const repair = coarsen(bad, MAX_REPAIR_RANGES);
  await writePartialMeta(finalPath, { sha256: artifact.sha256, sizeBytes: artifact.sizeBytes, repair });
  await fs.rename(finalPath, partialPath(finalPath));
  return true;
}

/** The sidecar stays small (a few tens of KiB) however scattered the damage. */
const MAX_REPAIR_RANGES = 512;

/**
 * At most `most` ranges covering all of `ranges`: the closest neighbours are
 * joined first (a few good bytes fetched again rather than a sidecar too big to read).
 */
export function coarsen(ranges: readonly ByteRange[], most: number): ByteRange[] {
  let out = ranges.map((r) => ({ ...r }));
  for (let gap = 1; out.length > most; gap *= 2) {
    const next: ByteRange[] = [];
    for (const r of out) {
      const last = next.at(-1);
      if (last && r.offset - (last.offset + last.length) < gap)
        last.length = r.offset + r.length - last.offset;
      else next.push(r);
    }
    out = next;
  }
  return out;
}

/**
 * The ranges a verify recorded for `artifact`, when its partial is the whole
 * damaged file (a regular file of our own, of the tarball's size); else undefined.
 */
export async function readRepair(
  finalPath: string,
  artifact: SelectedArtifact,
): Promise<ByteRange[] | undefined> {
  const meta = await readPartialMeta(finalPath).catch(() => undefined);
  if (!meta?.repair || meta.sha256 !== artifact.sha256 || meta.sizeBytes !== artifact.sizeBytes)
    return undefined;
  const st = await lstatOrUndefined(partialPath(finalPath)).catch(() => undefined);
  if (!st || !isOwnRegularFile(st) || st.size !== artifact.sizeBytes) return undefined;
  // Ours, but checked like input: in order, apart, inside the file.
  let end = 0;
  for (const r of meta.repair) {
    if (
      !Number.isSafeInteger(r?.offset) ||
      !Number.isSafeInteger(r?.length) ||
      r.length <= 0 ||
      r.offset < end ||
      r.offset + r.length > artifact.sizeBytes
    )
      return undefined;
    end = r.offset + r.length;
  }
  return meta.repair.map((r) => ({ offset: r.offset, length: r.length }));
}

/**
 * Fetches the bad ranges into the damaged partial, in place, then checks the
 * whole sha256 before the rename. A server that ignores Range, or a result
 * that still does not verify, gives `{ fallback }`: the caller downloads whole.
 */
export async function repairInPlace(
  ctx: DownloadContext,
  artifact: SelectedArtifact,
  finalPath: string,
  bad: ByteRange[],
  attempt: number,
): Promise<DeltaOutcome> {
  const partial = partialPath(finalPath);
  const dir = path.dirname(finalPath);
  const { key, sizeBytes } = artifact;
  const badBytes = bad.reduce((n, r) => n + r.length, 0);
  ctx.progress.artifact(key, 'downloading', { receivedBytes: sizeBytes - badBytes, attempt });
  ctx.progress.delta(key, {
    reuseBytes: sizeBytes - badBytes,
    fetchBytes: badBytes,
    reusedBytes: sizeBytes - badBytes,
  });
  const signal = ctx.signal ?? new AbortController().signal;
  const url = keyUrl(ctx.artifactRoot, key);
  let fallback: string | undefined;
  try {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(partial, fsConstants.O_RDWR | O_NOFOLLOW | O_NONBLOCK);
    } catch (err) {
      throw fsError(`cannot use ${partial}`, dir, err);
    }
    // Checked on the open file: only a regular file with no other name is written in place.
    const st = await handle.stat().catch(() => undefined);
    if (!st || !isOwnRegularFile(st) || st.size !== sizeBytes) {
      await handle.close().catch(() => {});
      throw new WholeInstead(`${partial} is no longer the file verify kept`);
    }
    try {
      for (const range of bad) {
        for (let at = range.offset; at < range.offset + range.length; at += PIECE_MAX_BYTES) {
          const length = Math.min(PIECE_MAX_BYTES, range.offset + range.length - at);
          const bytes = await fetchRange(ctx, artifact, url, { offset: at, length }, signal);
          try {
            await handle.write(bytes, 0, length, at);
          } catch (err) {
            throw fsError(`cannot write ${partial}`, dir, err);
          }
        }
      }
      await handle.sync().catch((err: unknown) => {
        throw fsError(`cannot write ${partial}`, dir, err);
      });
    } finally {
      await handle.close().catch(() => {});
    }
    ctx.progress.artifact(key, 'verifying');
    const actual = await sha256File(partial, ctx.signal);
    if (actual !== artifact.sha256)
      throw new WholeInstead(`the repaired file has sha256 ${actual}, not the manifest's`);
    let outcome: Awaited<ReturnType<typeof installOrStage>>;
    try {
      outcome = await installOrStage(ctx, finalPath);
    } catch (err) {
      throw fsError(`cannot finish ${finalPath}`, dir, err);
    }
    ctx.progress.artifact(key, 'verified');
    return outcome;
  } catch (err) {
    const settled = settle(ctx, err, `cannot repair ${key}`, dir);
    if (settled instanceof VmCacheError) throw settled;
    fallback = settled.fallback;
    return settled;
  } finally {
    // Bytes that do not verify (or a server that cannot help) leave nothing; anything else keeps the file to retry.
    if (fallback !== undefined) await discardPartial(finalPath);
  }
}
