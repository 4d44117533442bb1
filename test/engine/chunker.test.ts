// Content-defined chunking and the chunk index (issue #15): the same bytes cut
// the same way however they arrive, chunks stay within their bounds, an edit
// moves only the chunks around it, and an index that does not fit its tarball
// is refused.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildChunkIndex,
  type ChunkIndex,
  parseChunkIndex,
  serializeChunkIndex,
} from '../../main/engine/chunk-index.js';
import { CHUNKER_ID, Chunker, DEFAULT_CHUNKER } from '../../main/engine/chunker.js';
import { parseManifest, selectArtifacts } from '../../main/engine/index.js';
import { seededBytes } from '../helpers.js';

async function* inPieces(buf: Buffer, size: number): AsyncIterable<Uint8Array> {
  for (let off = 0; off < buf.length; off += size) yield buf.subarray(off, off + size);
}

const index = (buf: Buffer, piece = 1 << 20) => buildChunkIndex(inPieces(buf, piece));
const MiB = 1 << 20;

describe('the chunker', () => {
  it('cuts the same bytes at the same places however they are split', async () => {
    const data = seededBytes(4 * MiB, 'split');
    const whole = await index(data, data.length);
    for (const piece of [1, 4093, 65_536]) {
      const small = piece === 1 ? data.subarray(0, 600_000) : data;
      const a = await index(small, piece);
      const b = await index(small, small.length);
      expect(a.chunks).toEqual(b.chunks);
    }
    expect(whole.chunks.length).toBeGreaterThan(10);
  });

  it('keeps every chunk between min and max (the last may be short) and averages near avg', async () => {
    const data = seededBytes(16 * MiB, 'bounds');
    const { chunks, sizeBytes, sha256 } = await index(data);
    expect(sizeBytes).toBe(data.length);
    expect(sha256).toBe(createHash('sha256').update(data).digest('hex'));
    const { min, max, avg } = DEFAULT_CHUNKER;
    for (const c of chunks.slice(0, -1)) {
      expect(c.length).toBeGreaterThanOrEqual(min);
      expect(c.length).toBeLessThanOrEqual(max);
    }
    expect(chunks.at(-1)!.length).toBeLessThanOrEqual(max);
    const mean = data.length / chunks.length;
    expect(mean).toBeGreaterThan(avg / 2);
    expect(mean).toBeLessThan(avg * 2);
  });

  it('finds the chunks again after an insertion and a deletion: only those around the edits change', async () => {
    const old = seededBytes(16 * MiB, 'edit');
    const edited = Buffer.concat([
      old.subarray(0, 3 * MiB),
      seededBytes(1000, 'inserted'),
      old.subarray(3 * MiB, 9 * MiB),
      old.subarray(9 * MiB + 5000),
    ]);
    const known = new Set((await index(old)).chunks.map((c) => c.sha256));
    const next = await index(edited);
    const reused = next.chunks.filter((c) => known.has(c.sha256)).reduce((n, c) => n + c.length, 0);
    // Two edits cost at most a few chunks each (a chunk is 256 KiB at the most).
    expect(edited.length - reused).toBeLessThan(4 * DEFAULT_CHUNKER.max);
  });

  it('refuses impossible parameters', () => {
    expect(() => new Chunker({ min: 0, avg: 10, max: 20 })).toThrow(RangeError);
    expect(() => new Chunker({ min: 30, avg: 20, max: 40 })).toThrow(RangeError);
  });
});

describe('the chunk index', () => {
  it('round-trips, stays well under 1 % of the tarball, and its lengths add up', async () => {
    const data = seededBytes(8 * MiB, 'index');
    const built = await index(data);
    const text = serializeChunkIndex(built);
    expect(text.length / data.length).toBeLessThan(0.01);
    const parsed = parseChunkIndex(text, built, 'x.chunks.json');
    expect(parsed).toEqual(built);
    expect(parsed.chunker.id).toBe(CHUNKER_ID);
  });

  it('refuses an index that does not fit its tarball, with what to expect', async () => {
    const data = seededBytes(2 * MiB, 'hostile');
    const built = await index(data);
    const doc = JSON.parse(serializeChunkIndex(built)) as {
      chunker: { id: string; max: number };
      sha256: string;
      chunks: Array<[number, string]>;
    };
    const variant = (change: (d: typeof doc) => void): string => {
      const d = structuredClone(doc);
      change(d);
      return JSON.stringify(d);
    };
    const cases: Array<[string, string, RegExp]> = [
      ['not JSON', '{"format":', /not JSON/],
      ['another format', variant((d) => Object.assign(d, { format: 'other/9' })), /not a chunk index/],
      ['another cutting rule', variant((d) => Object.assign(d.chunker, { id: 'rabin' })), /cut by rabin/],
      ['another tarball', variant((d) => Object.assign(d, { sha256: 'a'.repeat(64) })), /another tarball/],
      [
        'an oversized chunk',
        variant((d) => {
          // The first chunks listed as one, over the 256 KiB maximum.
          let n = 0;
          let sum = 0;
          while (sum <= 1 << 18) sum += (d.chunks as [number, string][])[n++]![0];
          d.chunks.splice(0, n, [sum, d.chunks[0]![1]]);
        }),
        /over its maximum/,
      ],
      [
        'other chunk sizes',
        variant((d) => Object.assign(d.chunker, { min: 64, avg: 64, max: 64 })),
        /cut at 64/,
      ],
      ['lengths that do not add up', variant((d) => d.chunks.pop()), /add up to/],
      ['a negative length', variant((d) => (d.chunks[0]![0] = -5)), /not a chunk index/],
    ];
    for (const [what, text, message] of cases) {
      let err: unknown;
      try {
        parseChunkIndex(text, built as ChunkIndex, 'x.chunks.json');
      } catch (e) {
        err = e;
      }
      expect(err, what).toMatchObject({
        code: 'ERR_MANIFEST_INVALID',
        message: expect.stringMatching(message),
      });
      expect((err as Error).message, what).toContain('chunk index x.chunks.json refused: ');
    }
  });
});

describe('a manifest entry naming a chunk index', () => {
  const entry = (chunkIndex: unknown) =>
    JSON.stringify({
      schemaVersion: 2,
      updatedAt: '2026-12-01T00:00:00.000Z',
      agents: {
        a: {
          version: '1',
          tarballs: {
            x64: { key: 'vm/images/a-1-x64.tar.gz', sha256: 'b'.repeat(64), sizeBytes: 10, chunkIndex },
          },
        },
      },
    });
  const select = (chunkIndex: unknown) => {
    const { manifest } = parseManifest(entry(chunkIndex), 'm.json');
    return selectArtifacts(manifest, 'm.json', 'x64', false);
  };
  const ok = { key: 'vm/images/a-1-x64.tar.gz.chunks.json', sha256: 'c'.repeat(64), sizeBytes: 120 };

  it('is accepted when it holds to the tarball rules, and refused before any request when not', () => {
    expect(select(ok)).toHaveLength(1);
    expect(() => select({ ...ok, key: '../outside.json' })).toThrow(
      expect.objectContaining({ code: 'ERR_UNSAFE_KEY' }),
    );
    expect(() => select({ ...ok, sha256: 'nope' })).toThrow(/chunkIndex\.sha256/);
    expect(() => select({ ...ok, sizeBytes: 0 })).toThrow(/chunkIndex\.sizeBytes/);
    expect(() => select({ ...ok, sizeBytes: 2 ** 40 })).toThrow(/chunkIndex\.sizeBytes/);
    expect(() => select('vm/x')).toThrow(expect.objectContaining({ code: 'ERR_MANIFEST_INVALID' }));
  });
});
