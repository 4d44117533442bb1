// The chunk indexes of the tarballs the cache holds, kept in the state folder
// under each tarball's sha256. A delta update finds an old version's chunks
// through its index here instead of reading and cutting the whole old file
// again; an index missing here (a cache from before delta updates, a tarball
// published without one) is cut from the file once and kept. What an index
// says is never trusted on its own: every chunk copied from a local file is
// hashed again as it is placed.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readSmallRegularFile, writeFileAtomic } from './atomic.js';
import { type ChunkIndex, parseChunkIndex, serializeChunkIndex } from './chunk-index.js';
import { MAX_CHUNK_INDEX_BYTES } from './manifest.js';
import { chunkStoreDir } from './paths.js';

function storedPath(root: string, tarballSha256: string): string {
  return path.join(chunkStoreDir(root), `${tarballSha256}.json`);
}

/** The kept index of the tarball with this sha256 and size, or undefined (absent, damaged, another's). */
export async function readStoredIndex(
  root: string,
  tarball: { sha256: string; sizeBytes: number },
): Promise<ChunkIndex | undefined> {
  const text = await readSmallRegularFile(storedPath(root, tarball.sha256), MAX_CHUNK_INDEX_BYTES);
  if (text === undefined) return undefined;
  try {
    return parseChunkIndex(text, tarball, 'kept in the cache');
  } catch {
    return undefined;
  }
}

/** Keeps `index` for later updates; best effort (a delta update only gets slower without it). */
export async function storeIndex(root: string, index: ChunkIndex): Promise<void> {
  await writeFileAtomic(storedPath(root, index.sha256), serializeChunkIndex(index)).catch(() => {});
}

/** Drops the kept indexes of tarballs the cache no longer holds (after a commit, and on clear). */
export async function pruneStoredIndexes(root: string, keep: ReadonlySet<string>): Promise<void> {
  const dir = chunkStoreDir(root);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const sha = name.endsWith('.json') ? name.slice(0, -'.json'.length) : undefined;
    if (sha && keep.has(sha)) continue;
    await fs.rm(path.join(dir, name), { force: true, recursive: true }).catch(() => {});
  }
}
