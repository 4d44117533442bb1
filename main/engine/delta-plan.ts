// Planning a delta update (issue #15): which chunks of the new tarball are
// already on disk (in any local file cut by the same chunker), and which byte
// ranges must still be fetched. Pure planning over indexes; nothing here
// reads a chunk's bytes to place them or makes a request (delta-source.ts
// gathers the indexes, delta-download.ts places the chunks).
import { createReadStream } from 'node:fs';
import { buildChunkIndex, type Chunk, type ChunkIndex } from './chunk-index.js';
import type { ChunkerParams } from './chunker.js';

/** Where a chunk's bytes can be copied from. */
export interface LocalChunk {
  file: string;
  offset: number;
  length: number;
}

export interface ByteRange {
  offset: number;
  length: number;
}

export interface DeltaPlan {
  /** Chunks of the new tarball copied from local files, in the tarball's order. */
  reuse: Array<{ chunk: Chunk; from: LocalChunk }>;
  /** Ranges to fetch, in order, apart from each other; together with `reuse` they cover the tarball once. */
  fetch: ByteRange[];
  reusedBytes: number;
  fetchBytes: number;
}

/** Two chunks are the same when their sha256 and length are. */
const identity = (sha256: string, length: number) => `${sha256}:${length}`;

/** Cuts each local file as the publisher cut its tarballs; the first file holding a chunk wins. */
export async function indexLocalFiles(
  files: readonly string[],
  params: ChunkerParams,
  signal?: AbortSignal,
): Promise<Map<string, LocalChunk>> {
  const found = new Map<string, LocalChunk>();
  for (const file of files) addLocalChunks(found, file, await cutFile(file, params, signal));
  return found;
}

/** A local file's chunk index, cut as a publisher would cut it. */
export function cutFile(file: string, params: ChunkerParams, signal?: AbortSignal): Promise<ChunkIndex> {
  return buildChunkIndex(createReadStream(file, { highWaterMark: 1 << 20, signal }), params);
}

/** Adds the chunks `index` says `file` holds; a chunk already found elsewhere keeps its first place. */
export function addLocalChunks(found: Map<string, LocalChunk>, file: string, index: ChunkIndex): void {
  for (const c of index.chunks) {
    const id = identity(c.sha256, c.length);
    if (!found.has(id)) found.set(id, { file, offset: c.offset, length: c.length });
  }
}

/**
 * The plan for `index` given what is on disk. A reusable chunk lying between
 * two fetched ranges less than `mergeGapBytes` apart is fetched with them:
 * one request is cheaper than two around a small copy.
 */
export function planDelta(
  index: ChunkIndex,
  local: ReadonlyMap<string, LocalChunk>,
  mergeGapBytes = 64 << 10,
): DeltaPlan {
  const reuse: DeltaPlan['reuse'] = [];
  const fetch: ByteRange[] = [];
  for (const chunk of index.chunks) {
    const from = local.get(identity(chunk.sha256, chunk.length));
    if (from) {
      reuse.push({ chunk, from });
      continue;
    }
    const last = fetch.at(-1);
    if (last && last.offset + last.length === chunk.offset) last.length += chunk.length;
    else fetch.push({ offset: chunk.offset, length: chunk.length });
  }
  // Close small gaps: the reused chunks inside them are fetched instead.
  const merged: ByteRange[] = [];
  for (const range of fetch) {
    const last = merged.at(-1);
    if (last && range.offset - (last.offset + last.length) < mergeGapBytes) {
      last.length = range.offset + range.length - last.offset;
    } else merged.push({ ...range });
  }
  // Both lists are in offset order, and ranges begin and end on chunk boundaries: one walk.
  let next = 0;
  const kept = reuse.filter(({ chunk }) => {
    while (next < merged.length && merged[next]!.offset + merged[next]!.length <= chunk.offset) next++;
    const range = merged[next];
    return !(range && range.offset <= chunk.offset);
  });
  const fetchBytes = merged.reduce((n, r) => n + r.length, 0);
  return { reuse: kept, fetch: merged, reusedBytes: index.sizeBytes - fetchBytes, fetchBytes };
}
