// A tarball's chunk index (issue #15): its content-defined chunks in order,
// each as a length and a sha256, published beside the tarball so a client can
// tell which chunks it already holds. Offsets are not stored but summed from
// the lengths, so an index cannot describe overlapping or out-of-order chunks;
// what it can get wrong (a length, a sum, a hash) is refused by parseChunkIndex
// or caught when the chunk's bytes are checked.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CHUNKER_ID, Chunker, type ChunkerParams, DEFAULT_CHUNKER } from './chunker.js';
import { ManifestInvalidError } from './errors.js';
import { MAX_ARTIFACT_BYTES } from './manifest.js';

export const CHUNK_INDEX_FORMAT = 'vm-cache-chunk-index/1';
/** `manifest build` publishes a tarball's index beside it, under its key plus this. */
export const CHUNK_INDEX_SUFFIX = '.chunks.json';
/**
 * The largest chunk an index may declare. A delta update holds one chunk in
 * memory while it checks it, so a hostile "maximum" of a gigabyte is refused.
 */
export const MAX_CHUNK_BYTES = 4 << 20;

export interface Chunk {
  offset: number;
  length: number;
  /** Lower-case hex. */
  sha256: string;
}

export interface ChunkIndex {
  chunker: ChunkerParams & { id: string };
  /** The whole tarball's size and sha256, as the manifest names them. */
  sizeBytes: number;
  sha256: string;
  chunks: Chunk[];
}

const sha = z.string().regex(/^[0-9a-f]{64}$/);
const IndexDocSchema = z.object({
  format: z.literal(CHUNK_INDEX_FORMAT),
  chunker: z.object({
    id: z.string(),
    min: z.number().int().positive(),
    avg: z.number().int().positive(),
    max: z.number().int().positive(),
  }),
  sizeBytes: z.number().int().nonnegative().max(MAX_ARTIFACT_BYTES),
  sha256: sha,
  /** [length, sha256] per chunk, in order. */
  chunks: z.array(z.tuple([z.number().int().positive(), sha])),
});

/** Cuts `source` into chunks and hashes each, and the whole, in one pass. */
export async function buildChunkIndex(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  params: ChunkerParams = DEFAULT_CHUNKER,
): Promise<ChunkIndex> {
  const chunker = new Chunker(params);
  const whole = createHash('sha256');
  const chunks: Chunk[] = [];
  let piece = createHash('sha256');
  let start = 0;
  let offset = 0;
  const close = (end: number) => {
    chunks.push({ offset: start, length: end - start, sha256: piece.digest('hex') });
    piece = createHash('sha256');
    start = end;
  };
  for await (const buf of source) {
    whole.update(buf);
    let from = 0;
    for (const cut of chunker.push(buf)) {
      piece.update(buf.subarray(from, cut - offset));
      from = cut - offset;
      close(cut);
    }
    piece.update(buf.subarray(from));
    offset += buf.length;
  }
  const last = chunker.end();
  if (last !== undefined) close(last);
  return {
    chunker: { id: CHUNKER_ID, min: params.min, avg: params.avg, max: params.max },
    sizeBytes: offset,
    sha256: whole.digest('hex'),
    chunks,
  };
}

/** The index as published: compact JSON, offsets implied. */
export function serializeChunkIndex(index: ChunkIndex): string {
  return `${JSON.stringify({
    format: CHUNK_INDEX_FORMAT,
    chunker: index.chunker,
    sizeBytes: index.sizeBytes,
    sha256: index.sha256,
    chunks: index.chunks.map((c) => [c.length, c.sha256]),
  })}\n`;
}

/**
 * Reads a published index for the tarball the manifest describes, and refuses
 * one that does not fit it: another tarball's, another cutting rule, chunks
 * over the declared maximum, lengths that do not add up to the size.
 */
export function parseChunkIndex(
  bytes: Buffer | string,
  expected: { sizeBytes: number; sha256: string },
  where: string,
): ChunkIndex {
  const bad = (why: string) => new ManifestInvalidError(`chunk index ${where} refused: ${why}`);
  let doc: z.infer<typeof IndexDocSchema>;
  try {
    doc = IndexDocSchema.parse(JSON.parse(bytes.toString()));
  } catch (err) {
    throw bad(err instanceof SyntaxError ? 'not JSON' : 'not a chunk index of this format');
  }
  const { chunker } = doc;
  if (chunker.id !== CHUNKER_ID) throw bad(`it was cut by ${chunker.id}, not ${CHUNKER_ID}`);
  if (!(chunker.min <= chunker.avg && chunker.avg <= chunker.max))
    throw bad('its chunk sizes are out of order');
  if (chunker.max > MAX_CHUNK_BYTES)
    throw bad(`its chunks may be up to ${chunker.max} bytes, over ${MAX_CHUNK_BYTES}`);
  // A client cuts its cached files by the index's sizes before it knows what it can reuse: tiny
  // chunks would make that (and the index) millions of entries. Only the sizes manifest build uses.
  const { min, avg, max } = DEFAULT_CHUNKER;
  if (chunker.min !== min || chunker.avg !== avg || chunker.max !== max)
    throw bad(`it was cut at ${chunker.min}/${chunker.avg}/${chunker.max} bytes, not ${min}/${avg}/${max}`);
  if (doc.sizeBytes !== expected.sizeBytes || doc.sha256 !== expected.sha256) {
    throw bad('it describes another tarball than the manifest names');
  }
  const chunks: Chunk[] = [];
  let offset = 0;
  for (const [i, [length, sha256]] of doc.chunks.entries()) {
    if (length > chunker.max) throw bad(`a chunk of ${length} bytes is over its maximum of ${chunker.max}`);
    // Only the last chunk may be short: a cut is never looked for before `min`.
    if (length < chunker.min && i < doc.chunks.length - 1)
      throw bad(`a chunk of ${length} bytes is under its minimum of ${chunker.min}`);
    chunks.push({ offset, length, sha256 });
    offset += length;
  }
  if (offset !== doc.sizeBytes) throw bad(`its chunks add up to ${offset} bytes, not ${doc.sizeBytes}`);
  return {
    chunker: { id: chunker.id, min: chunker.min, avg: chunker.avg, max: chunker.max },
    sizeBytes: doc.sizeBytes,
    sha256: doc.sha256,
    chunks,
  };
}

/** True when two indexes were cut by the same rule and sizes: only then can their chunks match. */
export function sameCut(a: ChunkIndex, b: ChunkIndex): boolean {
  return (
    a.chunker.id === b.chunker.id &&
    a.chunker.min === b.chunker.min &&
    a.chunker.avg === b.chunker.avg &&
    a.chunker.max === b.chunker.max
  );
}
