// The per-sender progress throttle, on a fake clock: leading edge at once,
// then at most one per interval, the newest value always delivered last.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TrailingThrottle } from '../../main/engine/throttle.js';

describe('TrailingThrottle', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the first value at once, coalesces a burst, and delivers the newest on the trailing edge', () => {
    const out: Array<[number, number]> = [];
    const t = new TrailingThrottle<number>(100, (v) => out.push([Date.now(), v]));
    const start = Date.now();
    t.push(1);
    for (let i = 2; i <= 50; i++) t.push(i);
    expect(out).toEqual([[start, 1]]);
    vi.advanceTimersByTime(99);
    expect(out).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(out).toEqual([
      [start, 1],
      [start + 100, 50],
    ]);
  });

  it('a steady stream every 10 ms goes out at most every 100 ms, and the last value arrives', () => {
    const out: Array<[number, number]> = [];
    const t = new TrailingThrottle<number>(100, (v) => out.push([Date.now(), v]));
    for (let i = 1; i <= 100; i++) {
      t.push(i);
      vi.advanceTimersByTime(10);
    }
    vi.advanceTimersByTime(200);
    for (let i = 1; i < out.length; i++) expect(out[i]![0] - out[i - 1]![0]).toBeGreaterThanOrEqual(100);
    expect(out.length).toBeLessThanOrEqual(11);
    expect(out.at(-1)![1]).toBe(100);
  });

  it('after a quiet interval the next value goes out at once again', () => {
    const out: number[] = [];
    const t = new TrailingThrottle<number>(100, (v) => out.push(v));
    t.push(1);
    vi.advanceTimersByTime(500);
    t.push(2);
    expect(out).toEqual([1, 2]);
  });

  it('close() drops the pending value and ignores later ones', () => {
    const out: number[] = [];
    const t = new TrailingThrottle<number>(100, (v) => out.push(v));
    t.push(1);
    t.push(2);
    t.close();
    vi.advanceTimersByTime(1000);
    t.push(3);
    expect(out).toEqual([1]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('pushNow delivers at once, whatever the interval, and supersedes a pending value', () => {
    const out: number[] = [];
    const t = new TrailingThrottle<number>(100, (v) => out.push(v));
    t.push(1);
    t.push(2);
    t.pushNow(3);
    expect(out).toEqual([1, 3]);
    vi.advanceTimersByTime(500);
    expect(out).toEqual([1, 3]);
    t.close();
    t.pushNow(4);
    expect(out).toEqual([1, 3]);
  });
});
