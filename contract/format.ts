// Sizes, rates and shares as people read them, one rule for the panel, the CLI
// and the engine's messages (and the one sentence both say of a delta update). SI units (1 MB = 1 000 000 bytes),
// the way download sizes are usually quoted and the way the manifest's sizes
// are chosen, so "118.4 MB" here matches what a release note says.

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'] as const;

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  // Three significant figures at most: "118 MB", "46.9 MB", "3.21 GB".
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** A transfer rate; '—' while there is none to show. */
export function formatRate(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return '—';
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** Whole percent, rounded down: 100 only when complete. */
export function wholePercent(done: number, total: number): number {
  if (total <= 0) return done > 0 ? 100 : 0;
  return Math.max(0, Math.min(100, Math.floor((done / total) * 100)));
}

/**
 * What a delta update does for one tarball, as a phrase the panel and the CLI
 * both show: "reused 2.70 GB from the cached version, downloading 310 MB", or
 * why it is downloaded whole. Undefined when no delta was considered.
 */
export function describeDelta(
  delta: { reuseBytes: number; fetchBytes: number; fallback?: string | undefined } | undefined,
  finished: boolean,
): string | undefined {
  if (!delta) return undefined;
  if (delta.fallback !== undefined)
    return `${finished ? 'downloaded' : 'downloading'} whole: ${delta.fallback}`;
  const fetch = `${finished ? 'downloaded' : 'downloading'} ${formatBytes(delta.fetchBytes)}`;
  return `reused ${formatBytes(delta.reuseBytes)} from the cached version, ${fetch}`;
}
