import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BLOCK_SIZE,
  contentPieces,
  contentSha256,
  contentSlice,
  createContentStream,
  generatedSha256,
} from '../../server/index.js';
import { sha256 } from './helpers.js';

const SEED = 'openclaw-2026.4.12-x64';
const SIZE = 3 * BLOCK_SIZE + 12_345;

describe('generated content', () => {
  const full = contentSlice(SEED, 0, SIZE);

  it('produces any range equal to the same slice of the full content', () => {
    const edges = [
      0,
      1,
      31,
      32,
      33,
      65_535,
      65_536,
      BLOCK_SIZE - 1,
      BLOCK_SIZE,
      BLOCK_SIZE + 31,
      2 * BLOCK_SIZE + 7,
      SIZE - 1,
      SIZE,
    ];
    for (const start of edges) {
      for (const end of edges) {
        if (end < start) continue;
        expect(contentSlice(SEED, start, end).equals(full.subarray(start, end)), `[${start}, ${end})`).toBe(
          true,
        );
      }
    }
  });

  it('hands out pieces of at most 64 KiB that cover the range exactly', () => {
    let total = 0;
    for (const piece of contentPieces(SEED, 100, SIZE)) {
      expect(piece.length).toBeGreaterThan(0);
      expect(piece.length).toBeLessThanOrEqual(64 * 1024);
      total += piece.length;
    }
    expect(total).toBe(SIZE - 100);
  });

  it('is deterministic, seed-dependent and prefix-stable', () => {
    expect(contentSlice(SEED, 0, SIZE).equals(full)).toBe(true);
    expect(contentSlice('other-seed', 0, 4096).equals(full.subarray(0, 4096))).toBe(false);
    // The bytes at an offset do not depend on how long the artifact is.
    expect(contentSlice(SEED, 0, 1000).equals(full.subarray(0, 1000))).toBe(true);
  });

  it('does not repeat blocks', () => {
    const blocks = new Set<string>();
    for (let i = 0; i < 3; i++) blocks.add(sha256(full.subarray(i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE)));
    expect(blocks.size).toBe(3);
  });

  it('streams the same bytes with createContentStream', async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of createContentStream(SEED, 777, SIZE - 3)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(full.subarray(777, SIZE - 3))).toBe(true);
  });

  it('computes sha256 by streaming, equal to hashing the bytes', async () => {
    expect(await contentSha256(SEED, SIZE)).toBe(createHash('sha256').update(full).digest('hex'));
    expect(
      await generatedSha256({ agent: 'openclaw', version: '2026.4.12', arch: 'x64', sizeBytes: SIZE }),
    ).toBe(sha256(full));
    expect(await contentSha256(SEED, 0)).toBe(sha256(Buffer.alloc(0)));
  });

  it('rejects invalid ranges', () => {
    expect(() => contentSlice(SEED, 10, 5)).toThrow(RangeError);
    expect(() => contentSlice(SEED, -1, 5)).toThrow(RangeError);
  });
});
