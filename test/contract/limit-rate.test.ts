// The download speed limit in the contract: its minimum is the engine's (the
// contract cannot import the engine, so the two are held equal here), and
// setLimitRate's argument schema takes a number of at least that, or null.
import { describe, expect, it } from 'vitest';
import { INVOKE } from '../../contract/api.js';
import { LimitRateSchema, MIN_LIMIT_RATE } from '../../contract/status.js';
import { MIN_LIMIT_RATE as ENGINE_MIN_LIMIT_RATE, RateLimit } from '../../main/engine/index.js';

describe('the download speed limit in the contract', () => {
  it('has the engine’s minimum', () => {
    expect(MIN_LIMIT_RATE).toBe(ENGINE_MIN_LIMIT_RATE);
    expect(() => new RateLimit(MIN_LIMIT_RATE)).not.toThrow();
    expect(() => new RateLimit(MIN_LIMIT_RATE - 1)).toThrow();
  });

  it('setLimitRate takes exactly one argument: a finite number of at least the minimum, or null', () => {
    const args = INVOKE.setLimitRate.args;
    for (const good of [[null], [MIN_LIMIT_RATE], [5_000_000], [1536.5]]) {
      expect(args.safeParse(good).success, JSON.stringify(good)).toBe(true);
    }
    const bad: unknown[] = [
      [],
      [undefined],
      [Number.NaN],
      [Number.POSITIVE_INFINITY],
      [-5_000_000],
      [0],
      [-0],
      [MIN_LIMIT_RATE - 1],
      ['5M'],
      ['5000000'],
      [{}],
      [[2048]],
      [2048n],
      [true],
      [2048, 'extra'],
      2048,
      null,
      'x',
    ];
    for (const value of bad) expect(args.safeParse(value).success, String(value)).toBe(false);
  });

  it('the answer is the cap in effect: a number of at least the minimum, or null', () => {
    expect(LimitRateSchema.parse({ bytesPerSecond: null })).toEqual({ bytesPerSecond: null });
    expect(LimitRateSchema.parse({ bytesPerSecond: 2048 })).toEqual({ bytesPerSecond: 2048 });
    expect(LimitRateSchema.safeParse({ bytesPerSecond: 10 }).success).toBe(false);
    expect(LimitRateSchema.safeParse({}).success).toBe(false);
  });
});
