import { describe, expect, it } from 'vitest';
import { decideRange, ifRangeHolds } from '../../server/range.js';

describe('decideRange', () => {
  it('reads the single-range forms', () => {
    expect(decideRange(undefined, 100)).toEqual({ kind: 'full' });
    expect(decideRange('bytes=10-', 100)).toEqual({ kind: 'partial', start: 10, end: 100 });
    expect(decideRange('bytes=10-19', 100)).toEqual({ kind: 'partial', start: 10, end: 20 });
    expect(decideRange('bytes=90-500', 100)).toEqual({ kind: 'partial', start: 90, end: 100 });
    expect(decideRange('bytes=-30', 100)).toEqual({ kind: 'partial', start: 70, end: 100 });
    expect(decideRange('bytes=-300', 100)).toEqual({ kind: 'partial', start: 0, end: 100 });
  });

  it('answers 416 for a start at or past the end', () => {
    expect(decideRange('bytes=100-', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange('bytes=150-200', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange('bytes=-0', 100)).toEqual({ kind: 'unsatisfiable' });
  });

  it('ignores what it cannot read', () => {
    expect(decideRange('bytes=20-10', 100)).toEqual({ kind: 'full' });
    expect(decideRange('bytes=0-1,5-6', 100)).toEqual({ kind: 'full' });
    expect(decideRange('items=0-1', 100)).toEqual({ kind: 'full' });
    expect(decideRange('bytes=-', 100)).toEqual({ kind: 'full' });
  });
});

describe('ifRangeHolds', () => {
  it('holds for the current ETag or Last-Modified only', () => {
    expect(ifRangeHolds(undefined, '"a"', 'date')).toBe(true);
    expect(ifRangeHolds('"a"', '"a"', 'date')).toBe(true);
    expect(ifRangeHolds('date', '"a"', 'date')).toBe(true);
    expect(ifRangeHolds('"b"', '"a"', 'date')).toBe(false);
  });
});
