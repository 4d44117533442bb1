// Full or fast. `npm run test:reliability` sets RELIABILITY_FULL=1 and runs the
// counts the figures in docs/reliability.md come from; `npm test` runs the same
// files with small counts so every change still passes through them.
export const FULL = process.env.RELIABILITY_FULL === '1';
export const MODE: 'full' | 'fast' = FULL ? 'full' : 'fast';

/** The full-mode value when RELIABILITY_FULL=1, else the fast one. */
export function byMode<T>(full: T, fast: T): T {
  return FULL ? full : fast;
}

export const MiB = 1 << 20;
