// Numbers for a terminal: durations as a clock, bars, padded percentages;
// sizes, rates and the percentage itself follow contract/format.ts.
import { formatBytes, formatRate, wholePercent } from '../contract/index.js';

export { formatBytes, formatRate };

/** 75 -> "1:15", 3725 -> "1:02:05". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export function bar(done: number, total: number, width: number): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

export function percent(done: number, total: number): string {
  return `${String(wholePercent(done, total)).padStart(3)}%`;
}
