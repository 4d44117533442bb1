// Where a download left off: `<key>.partial` (written by PartialWriter) and a
// small sidecar that says which bytes the partial holds, so a later attempt
// (or a later process) can resume it or knows to throw it away.

import {
  isOwnRegularFile,
  lstatOrUndefined,
  readSmallRegularFile,
  removeIfExists,
  writeNewFile,
} from './atomic.js';
import type { SelectedArtifact } from './manifest.js';
import { partialMetaPath, partialPath } from './paths.js';

export interface PartialMeta {
  sha256: string;
  sizeBytes: number;
  etag?: string;
  lastModified?: string;
}

export interface ResumePoint {
  offset: number;
  validator: string;
  meta: PartialMeta;
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
  if (
    !meta ||
    !st ||
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
  return { offset: st.size, validator, meta };
}

/** Replaces the sidecar with a new file: a link in its place is removed, never written through. */
export async function writePartialMeta(finalPath: string, meta: PartialMeta): Promise<void> {
  await writeNewFile(partialMetaPath(finalPath), `${JSON.stringify(meta)}\n`);
}

export async function discardPartial(finalPath: string): Promise<void> {
  await removeIfExists(partialPath(finalPath));
  await removeIfExists(partialMetaPath(finalPath));
}
