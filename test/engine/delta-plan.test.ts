// Planning a delta (issue #15): from the new tarball's index and the chunks of
// a local file, which chunks are copied and which ranges fetched. Applying the
// plan must rebuild the new tarball byte for byte.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildChunkIndex } from '../../main/engine/chunk-index.js';
import { DEFAULT_CHUNKER } from '../../main/engine/chunker.js';
import { type DeltaPlan, indexLocalFiles, planDelta } from '../../main/engine/delta-plan.js';
import { seededBytes, tempRoot } from '../helpers.js';

async function* once(buf: Buffer): AsyncIterable<Uint8Array> {
  yield buf;
}
const MiB = 1 << 20;

/** What a client would end with: copied chunks from disk, fetched ranges from the new bytes (the server). */
async function apply(plan: DeltaPlan, server: Buffer, size: number): Promise<Buffer> {
  const out = Buffer.alloc(size);
  const covered = Buffer.alloc(size);
  for (const { chunk, from } of plan.reuse) {
    const src = (await readFile(from.file)).subarray(from.offset, from.offset + from.length);
    src.copy(out, chunk.offset);
    covered.fill(1, chunk.offset, chunk.offset + chunk.length);
  }
  for (const r of plan.fetch) {
    expect(covered.subarray(r.offset, r.offset + r.length).includes(1)).toBe(false);
    server.copy(out, r.offset, r.offset, r.offset + r.length);
    covered.fill(1, r.offset, r.offset + r.length);
  }
  expect(covered.includes(0)).toBe(false);
  return out;
}

describe('planDelta', () => {
  it('copies what the old version holds, fetches the rest, and rebuilds the new tarball exactly', async () => {
    const dir = await tempRoot();
    const old = seededBytes(12 * MiB, 'old');
    const next = Buffer.concat([
      old.subarray(0, 2 * MiB),
      seededBytes(300_000, 'new'),
      old.subarray(2 * MiB + 100_000, 10 * MiB),
      seededBytes(MiB, 'tail'),
    ]);
    const oldFile = path.join(dir, 'agent-1.tar.gz');
    await writeFile(oldFile, old);
    const index = await buildChunkIndex(once(next));
    const local = await indexLocalFiles([oldFile], DEFAULT_CHUNKER);
    const plan = planDelta(index, local);
    expect(plan.reusedBytes + plan.fetchBytes).toBe(next.length);
    // The new bytes are 1.3 MiB; each edit costs at most a few chunks more.
    expect(plan.fetchBytes).toBeGreaterThanOrEqual(1.3 * MiB);
    expect(plan.fetchBytes).toBeLessThan(1.3 * MiB + 4 * DEFAULT_CHUNKER.max);
    for (let i = 1; i < plan.fetch.length; i++) {
      const prev = plan.fetch[i - 1]!;
      expect(plan.fetch[i]!.offset - (prev.offset + prev.length)).toBeGreaterThanOrEqual(64 << 10);
    }
    const rebuilt = await apply(plan, next, index.sizeBytes);
    expect(createHash('sha256').update(rebuilt).digest('hex')).toBe(index.sha256);
  });

  it('fetches everything when nothing local matches, in one range', async () => {
    const index = await buildChunkIndex(once(seededBytes(3 * MiB, 'alone')));
    const plan = planDelta(index, new Map());
    expect(plan).toMatchObject({ reuse: [], fetch: [{ offset: 0, length: 3 * MiB }], reusedBytes: 0 });
  });

  it('fetches a small reusable chunk between two ranges with them, rather than a third request', async () => {
    const index = {
      chunker: { id: 'x', ...DEFAULT_CHUNKER },
      sizeBytes: 300,
      sha256: 'f'.repeat(64),
      chunks: [
        { offset: 0, length: 100, sha256: 'a'.repeat(64) },
        { offset: 100, length: 50, sha256: 'b'.repeat(64) },
        { offset: 150, length: 150, sha256: 'c'.repeat(64) },
      ],
    };
    const local = new Map([[`${'b'.repeat(64)}:50`, { file: 'old', offset: 0, length: 50 }]]);
    expect(planDelta(index, local, 64)).toMatchObject({ reuse: [], fetch: [{ offset: 0, length: 300 }] });
    expect(planDelta(index, local, 10)).toMatchObject({
      reuse: [{ chunk: { offset: 100 } }],
      fetch: [
        { offset: 0, length: 100 },
        { offset: 150, length: 150 },
      ],
      reusedBytes: 50,
    });
  });
});
