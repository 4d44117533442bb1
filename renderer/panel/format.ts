// Numbers as people read them in the panel; sizes, rates and percentages
// follow contract/format.ts, the rule the CLI uses too.
export { formatBytes, formatRate, wholePercent } from '../../contract/format.js';

/** Time left, rounded so it does not flicker: seconds under a minute, then minutes, then hours. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return 'estimating…';
  const s = Math.ceil(seconds);
  if (s <= 1) return 'less than a second left';
  if (s < 60) return `${s} s left`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) {
    const rest = s % 60;
    return rest === 0 || minutes >= 10 ? `${minutes} min left` : `${minutes} min ${rest} s left`;
  }
  const hours = Math.floor(minutes / 60);
  const restMin = minutes % 60;
  return restMin === 0 ? `${hours} h left` : `${hours} h ${restMin} min left`;
}

/** A date (ISO string or epoch ms) in the reader's locale; '—' when absent or invalid. */
export function formatDate(value: string | number | null | undefined, withTime = true): string {
  if (value === null || value === undefined) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '—';
  return date.toLocaleString(undefined, {
    dateStyle: 'medium',
    ...(withTime ? { timeStyle: 'short' } : {}),
  });
}

/** The first 12 hex characters: enough to compare with a release note by eye. */
export function shortSha(sha256: string): string {
  return sha256.slice(0, 12);
}
