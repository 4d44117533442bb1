// The range bookkeeping of parallel downloads as plain data: who takes what
// (the first span nobody fetches, else the tail of the one that would finish
// last), what a checkpoint records, and which recorded ranges a resume trusts.
import { describe, expect, it } from 'vitest';
import { keptRanges, MAX_RANGES, Spans } from '../../main/engine/spans.js';

const MiB = 1 << 20;

describe('Spans', () => {
  it('an idle connection takes the tail of the span that would finish last, cut so both end together', () => {
    const spans = new Spans(0, 100 * MiB);
    const first = spans.claim(0, MiB)!;
    first.rate = 3 * MiB;
    first.at = 10 * MiB;
    // A newcomer at 1 MiB/s takes a quarter of the 90 MiB left; the owner (3 MiB/s) keeps three quarters.
    const taken = spans.claim(MiB, MiB)!;
    expect(taken.start).toBe(10 * MiB + Math.floor((90 * MiB * 3) / 4));
    expect(first.end).toBe(taken.start);
    expect(taken.end).toBe(100 * MiB);
    expect(spans.all().map((s) => s.start)).toEqual([0, taken.start]);
  });

  it('a stalled owner keeps almost nothing; a remainder under two pieces is not split', () => {
    const spans = new Spans(0, 8 * MiB);
    const owner = spans.claim(0, MiB)!;
    owner.rate = 1;
    const taken = spans.claim(4 * MiB, MiB)!;
    expect(taken.start).toBe(MiB / 4);
    const small = new Spans(0, MiB + 5);
    small.claim(0, MiB);
    expect(small.claim(MiB, MiB)).toBeUndefined();
  });

  it('a span nobody fetches (a connection let go) is claimed before any split', () => {
    const spans = new Spans(0, 64 * MiB, [[16 * MiB, 32 * MiB]]);
    expect(spans.all().map((s) => [s.start, s.at, s.end])).toEqual([
      [0, 0, 16 * MiB],
      [16 * MiB, 32 * MiB, 32 * MiB],
      [32 * MiB, 32 * MiB, 64 * MiB],
    ]);
    expect(spans.claim(0, MiB)!.start).toBe(0);
    expect(spans.claim(0, MiB)!.start).toBe(32 * MiB);
  });

  it('a checkpoint records the prefix on disk and the bytes placed ahead, not what is still queued', () => {
    const spans = new Spans(0, 40 * MiB);
    const a = spans.claim(0, MiB)!;
    a.rate = 1;
    const b = spans.claim(1, MiB)!;
    a.at = 6 * MiB; // in order: queued to 6 MiB, on disk to 5 MiB
    b.at = b.start + 2 * MiB;
    expect(spans.ranges(5 * MiB, 6 * MiB)).toEqual([
      [0, 5 * MiB],
      [b.start, b.start + 2 * MiB],
    ]);
  });
});

describe('keptRanges (what a resume trusts of a sidecar)', () => {
  const size = 10 * MiB;
  it('the prefix and the ranges after it, clipped to the file as it is', () => {
    expect(
      keptRanges(
        [
          [0, MiB],
          [2 * MiB, 4 * MiB],
          [6 * MiB, 9 * MiB],
        ],
        size,
        7 * MiB,
      ),
    ).toEqual({
      prefix: MiB,
      done: [
        [2 * MiB, 4 * MiB],
        [6 * MiB, 7 * MiB],
      ],
    });
    expect(keptRanges([[MiB, 2 * MiB]], size, size)).toEqual({ prefix: 0, done: [[MiB, 2 * MiB]] });
    expect(
      keptRanges(
        [
          [0, MiB],
          [MiB, 2 * MiB],
        ],
        size,
        size,
      ),
    ).toEqual({ prefix: 2 * MiB, done: [] });
  });

  it('anything not ours is refused: overlapping, unsorted, out of bounds, not integers, too many', () => {
    for (const bad of [
      [
        [0, 2 * MiB],
        [MiB, 3 * MiB],
      ],
      [
        [4 * MiB, 5 * MiB],
        [0, MiB],
      ],
      [[0, size + 1]],
      [[-1, 5]],
      [[5, 5]],
      [[0, 1.5]],
      [['0', '5']],
      [[0, 5, 9]],
      'ranges',
      { 0: [0, 5] },
      Array.from({ length: MAX_RANGES + 1 }, (_, i) => [i * 2, i * 2 + 1]),
    ])
      expect(keptRanges(bad, size, size)).toBeUndefined();
  });
});
