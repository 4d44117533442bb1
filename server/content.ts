// Deterministic artifact bytes from a seed, producible for any range [start, end)
// without generating from 0 and without holding the artifact in memory: the
// benchmarks serve 1 GiB artifacts, and a resumed download asks for the tail.
//
// Layout: a 1 MiB base block per seed (sha256 in counter mode). Block i of the
// stream is the base block rotated by an offset derived from (seed, i), with its
// first 32 bytes XORed by a per-block digest so that no two blocks are equal.
// Rotation means most of any block is a plain subarray of the base block, so
// serving and hashing cost no copying; the content is prefix-stable (the bytes
// at an offset do not depend on the artifact's size).

import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

export const BLOCK_SIZE = 1024 * 1024;
const STAMP_SIZE = 32;
/** Largest piece handed out, so a consumer can pace and split without big copies. */
export const PIECE_SIZE = 64 * 1024;

// A handful of seeds per process (a test file's artifacts, the demo set); bounded
// so a long-lived process serving many seeds does not grow without limit.
const BASE_CACHE_LIMIT = 16;
const baseCache = new Map<string, Buffer>();

function seedKey(seed: string): Buffer {
  return createHash('sha256').update('electron-vm-cache/content/v1\0').update(seed).digest();
}

function baseBlock(seed: string): Buffer {
  const cached = baseCache.get(seed);
  if (cached) {
    // Refresh recency for the LRU.
    baseCache.delete(seed);
    baseCache.set(seed, cached);
    return cached;
  }
  const key = seedKey(seed);
  const block = Buffer.allocUnsafe(BLOCK_SIZE);
  const counter = Buffer.alloc(4);
  for (let j = 0; j < BLOCK_SIZE / 32; j++) {
    counter.writeUInt32BE(j, 0);
    createHash('sha256')
      .update(key)
      .update('base')
      .update(counter)
      .digest()
      .copy(block, j * 32);
  }
  baseCache.set(seed, block);
  if (baseCache.size > BASE_CACHE_LIMIT) {
    const oldest = baseCache.keys().next().value;
    if (oldest !== undefined) baseCache.delete(oldest);
  }
  return block;
}

interface BlockShape {
  rotation: number;
  stamp: Buffer;
}

function blockShape(key: Buffer, index: number): BlockShape {
  const idx = Buffer.alloc(8);
  idx.writeBigUInt64BE(BigInt(index), 0);
  const digest = createHash('sha256').update(key).update('block').update(idx).digest();
  return { rotation: digest.readUInt32BE(0) % BLOCK_SIZE, stamp: digest };
}

function assertRange(start: number, end: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid content range [${start}, ${end})`);
  }
}

/**
 * The bytes [start, end) of the seed's stream, in pieces of at most PIECE_SIZE.
 * Pieces may be views of a shared buffer: consumers must not mutate them.
 */
export function* contentPieces(seed: string, start: number, end: number): Generator<Buffer, void, undefined> {
  assertRange(start, end);
  if (start === end) return;
  const base = baseBlock(seed);
  const key = seedKey(seed);
  let pos = start;
  while (pos < end) {
    const index = Math.floor(pos / BLOCK_SIZE);
    const blockStart = index * BLOCK_SIZE;
    const blockEnd = Math.min(end, blockStart + BLOCK_SIZE);
    const { rotation, stamp } = blockShape(key, index);
    while (pos < blockEnd) {
      const o = pos - blockStart;
      if (o < STAMP_SIZE) {
        // The stamped head of a block is the only part that needs fresh bytes.
        const n = Math.min(STAMP_SIZE - o, blockEnd - pos);
        const out = Buffer.allocUnsafe(n);
        for (let k = 0; k < n; k++) {
          out[k] = (base[(o + k + rotation) % BLOCK_SIZE] as number) ^ (stamp[o + k] as number);
        }
        yield out;
        pos += n;
        continue;
      }
      // Elsewhere the block is a rotation of the base: a view, split at the wrap.
      const b = (o + rotation) % BLOCK_SIZE;
      const n = Math.min(blockEnd - pos, BLOCK_SIZE - b, PIECE_SIZE);
      yield base.subarray(b, b + n);
      pos += n;
    }
  }
}

/** A byte stream (with backpressure) of [start, end) of the seed's content. */
export function createContentStream(seed: string, start: number, end: number): Readable {
  return Readable.from(contentPieces(seed, start, end), { objectMode: false });
}

/** [start, end) of the seed's content as one Buffer: for tests and small sizes. */
export function contentSlice(seed: string, start: number, end: number): Buffer {
  assertRange(start, end);
  const out = Buffer.allocUnsafe(end - start);
  let at = 0;
  for (const piece of contentPieces(seed, start, end)) {
    piece.copy(out, at);
    at += piece.length;
  }
  return out;
}

/** The seed an artifact's bytes come from. */
export function artifactSeed(a: { agent: string; version: string; arch: string; seed?: string }): string {
  return a.seed ?? `${a.agent}-${a.version}-${a.arch}`;
}

// Hashing a 1 GiB artifact takes about half a second; servers restarted within
// one process (tests, benchmarks) should pay it once.
const shaCache = new Map<string, string>();
// Yield to the event loop between slices so a big hash does not starve timers
// and sockets of whatever else runs in the process.
const HASH_SLICE = 64 * 1024 * 1024;

/** Hex sha256 of the first `size` bytes of the seed's content, computed by streaming. */
export async function contentSha256(seed: string, size: number): Promise<string> {
  assertRange(0, size);
  const cacheKey = `${size}:${seed}`;
  const cached = shaCache.get(cacheKey);
  if (cached) return cached;
  const hash = createHash('sha256');
  for (let at = 0; at < size; at += HASH_SLICE) {
    for (const piece of contentPieces(seed, at, Math.min(size, at + HASH_SLICE))) hash.update(piece);
    if (at + HASH_SLICE < size) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const hex = hash.digest('hex');
  shaCache.set(cacheKey, hex);
  return hex;
}

/** Hex sha256 of a generated artifact's full content. */
export function generatedSha256(a: {
  agent: string;
  version: string;
  arch: string;
  seed?: string;
  sizeBytes: number;
}): Promise<string> {
  return contentSha256(artifactSeed(a), a.sizeBytes);
}
