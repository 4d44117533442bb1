// Where a download left off: `<key>.partial` (written by PartialWriter) and a
// small sidecar that says which bytes the partial holds, so a later attempt
// (or a later process) can resume it or knows to throw it away.

import { promises as fs } from 'node:fs';
import { removeIfExists, statOrUndefined } from './atomic.js';
import type { PlannedArtifact } from './manifest.js';
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

/** Where a previous attempt left off, or undefined to start from zero (stale leftovers removed). */
export async function findResumePoint(
  finalPath: string,
  artifact: PlannedArtifact,
): Promise<ResumePoint | undefined> {
  const partial = partialPath(finalPath);
  const metaFile = partialMetaPath(finalPath);
  let meta: PartialMeta | undefined;
  try {
    meta = JSON.parse(await fs.readFile(metaFile, 'utf8')) as PartialMeta;
  } catch {
    meta = undefined;
  }
  const st = await statOrUndefined(partial);
  const validator = meta?.etag ?? meta?.lastModified;
  if (
    !meta ||
    !st ||
    !validator ||
    meta.sha256 !== artifact.sha256 ||
    meta.sizeBytes !== artifact.sizeBytes ||
    st.size > artifact.sizeBytes
  ) {
    // A partial for other bytes, or one we cannot validate, is worth nothing.
    await discardPartial(finalPath);
    return undefined;
  }
  return { offset: st.size, validator, meta };
}

export async function writePartialMeta(finalPath: string, meta: PartialMeta): Promise<void> {
  await fs.writeFile(partialMetaPath(finalPath), `${JSON.stringify(meta)}\n`);
}

export async function discardPartial(finalPath: string): Promise<void> {
  await removeIfExists(partialPath(finalPath));
  await removeIfExists(partialMetaPath(finalPath));
}
