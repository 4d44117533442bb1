// Where a download left off: `<key>.partial` (written by PartialWriter) and a
// small sidecar that says which bytes the partial holds, so a later attempt
// (or a later process) can resume it or knows to throw it away.

import {
  isOwnRegularFile,
  lstatOrUndefined,
  readSmallRegularFile,
  removeIfExists,
  writeFileAtomic,
} from './atomic.js';
import type { SelectedArtifact } from './manifest.js';
import { partialMetaPath, partialPath } from './paths.js';
import { keptRanges, type Ranges } from './spans.js';

export interface PartialMeta {
  sha256: string;
  sizeBytes: number;
  etag?: string;
  lastModified?: string;
  /** The artifact root (the manifest's, or a mirror) the validator came from. */
  root?: string;
  /** A partial built by a delta update: the sha256 of the chunk index it follows. */
  delta?: string;
  /**
   * A whole tarball that `verify` found damaged, kept for a repair in place:
   * the byte ranges whose chunks did not match (repair.ts).
   */
  repair?: Array<{ offset: number; length: number }>;
  /**
   * Written by several connections at once (transfer.ts): the byte ranges the
   * partial holds whole, from a checkpoint. Without it, the partial is one
   * prefix of the tarball, as long as the file.
   */
  ranges?: Ranges;
}

export interface ResumePoint {
  /** Where the in-order prefix ends. */
  offset: number;
  /** Ranges after it that other connections completed. */
  done: Ranges;
  validator: string;
  meta: PartialMeta;
}

/** The bytes a resume starts with: its prefix and the ranges after it. */
export function keptBytes(resume: Pick<ResumePoint, 'offset' | 'done'>): number {
  return resume.done.reduce((sum, [start, end]) => sum + end - start, resume.offset);
}

/** A sidecar is a few hundred bytes; anything much larger is not ours. */
const MAX_META_BYTES = 64 << 10;

function parseMeta(text: string | undefined): PartialMeta | undefined {
  if (text === undefined) return undefined;
  try {
    const meta = JSON.parse(text) as Partial<PartialMeta> | null;
    if (typeof meta?.sha256 !== 'string' || typeof meta.sizeBytes !== 'number') return undefined;
    return meta as PartialMeta;
  } catch {
    return undefined;
  }
}

/** The sidecar of `finalPath`'s partial, if it is one of ours and reads as one. */
export async function readPartialMeta(finalPath: string): Promise<PartialMeta | undefined> {
  return parseMeta(await readSmallRegularFile(partialMetaPath(finalPath), MAX_META_BYTES));
}

/**
 * Where a previous attempt left off, or undefined to start from zero (stale
 * leftovers removed). Only a regular file with no other name is resumed: a
 * link, a hard link to a file elsewhere or a FIFO in its place is discarded
 * (its name removed, whatever it pointed to left as it was), so resuming can
 * never write outside the cache or block on open.
 */
export async function findResumePoint(
  finalPath: string,
  artifact: SelectedArtifact,
): Promise<ResumePoint | undefined> {
  const meta = parseMeta(await readSmallRegularFile(partialMetaPath(finalPath), MAX_META_BYTES));
  const st = await lstatOrUndefined(partialPath(finalPath));
  const validator = meta?.etag ?? meta?.lastModified;
  const kept = meta && st && inRanges(meta, st.size);
  if (
    !meta ||
    !st ||
    !kept ||
    !isOwnRegularFile(st) ||
    !validator ||
    meta.sha256 !== artifact.sha256 ||
    meta.sizeBytes !== artifact.sizeBytes ||
    st.size > artifact.sizeBytes
  ) {
    // A partial for other bytes, one we cannot validate, or not a file of our own, is worth nothing.
    await discardPartial(finalPath);
    return undefined;
  }
  return { offset: kept.prefix, done: kept.done, validator, meta };
}

/** The prefix and ranges a partial of `length` bytes holds: the whole file, unless its sidecar records ranges. */
function inRanges(meta: PartialMeta, length: number): { prefix: number; done: Ranges } | undefined {
  if (meta.ranges === undefined) return { prefix: length, done: [] };
  return keptRanges(meta.ranges, meta.sizeBytes, length);
}

/**
 * How many bytes a kept partial of `artifact` holds for a delta update to go
 * on from (it cuts them back to a chunk boundary), or 0 with the leftovers
 * removed. A delta partial is made of verified chunks, and a plain one of the
 * server's bytes for this sha256: either is a prefix of the tarball, and the
 * whole sha256 is still checked at the end.
 */
export async function keptForDelta(finalPath: string, artifact: SelectedArtifact): Promise<number> {
  const meta = parseMeta(await readSmallRegularFile(partialMetaPath(finalPath), MAX_META_BYTES));
  const st = await lstatOrUndefined(partialPath(finalPath));
  if (
    meta &&
    st &&
    isOwnRegularFile(st) &&
    meta.sha256 === artifact.sha256 &&
    meta.sizeBytes === artifact.sizeBytes &&
    st.size <= artifact.sizeBytes
  )
    // Ranges fetched at once: only the prefix counts (a delta writes in order).
    return inRanges(meta, st.size)?.prefix ?? 0;
  await discardPartial(finalPath);
  return 0;
}

/**
 * Replaces the sidecar with a new file by a rename: a link in its place is
 * replaced, never written through, and a process killed meanwhile leaves the
 * old sidecar or the new one, never none (checkpoints rewrite it often). No
 * fsync: after a power cut the final sha256 still judges the partial.
 */
export async function writePartialMeta(finalPath: string, meta: PartialMeta): Promise<void> {
  await writeFileAtomic(partialMetaPath(finalPath), `${JSON.stringify(meta)}\n`, { durable: false });
}

export async function discardPartial(finalPath: string): Promise<void> {
  await removeIfExists(partialPath(finalPath));
  await removeIfExists(partialMetaPath(finalPath));
}
