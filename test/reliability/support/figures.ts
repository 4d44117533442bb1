// Each scenario writes what it measured to out/reliability/<scenario>.json
// (out/reliability/fast/ in fast mode; out/ is gitignored); the summary
// (support/summary.ts) turns the files of one run into the table that
// docs/reliability.md quotes.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODE } from './mode.js';

// Fast runs (inside `npm test`) write beside, not over, the full run's figures.
export const FIGURES_DIR = fileURLToPath(
  new URL(MODE === 'full' ? '../../../out/reliability/' : '../../../out/reliability/fast/', import.meta.url),
);

export interface Figures {
  scenario: string;
  /** Crash rounds, cases, syncs: whatever the scenario repeats. */
  rounds: number;
  /** Faults the server or the test injected (kills, resets, 503s, filled disks...). */
  faultsInjected: number;
  /** Body bytes the artifact server flushed, all requests. */
  bytesServed: number;
  /** Checks that did not hold; the test fails when this is not 0. */
  failures: number;
  durationMs: number;
  /** One line of the most telling extra figures, for the summary table. */
  notes: string;
  /** Everything else (per-round or per-case detail). */
  detail?: unknown;
}

export interface RecordedFigures extends Figures {
  mode: 'full' | 'fast';
  finishedAt: string;
}

export async function recordFigures(figures: Figures): Promise<void> {
  const record: RecordedFigures = { ...figures, mode: MODE, finishedAt: new Date().toISOString() };
  await mkdir(FIGURES_DIR, { recursive: true });
  await writeFile(path.join(FIGURES_DIR, `${figures.scenario}.json`), `${JSON.stringify(record, null, 2)}\n`);
}

/** Every scenario file written at or after `since` (ms since the epoch). */
export async function readFigures(since = 0): Promise<RecordedFigures[]> {
  let names: string[];
  try {
    names = await readdir(FIGURES_DIR);
  } catch {
    return [];
  }
  const out: RecordedFigures[] = [];
  for (const name of names.filter((n) => n.endsWith('.json') && n !== 'summary.json').sort()) {
    try {
      const rec = JSON.parse(await readFile(path.join(FIGURES_DIR, name), 'utf8')) as RecordedFigures;
      if (Date.parse(rec.finishedAt) >= since) out.push(rec);
    } catch {
      // A file from an older layout, or half-written by a killed run: not this run's.
    }
  }
  return out;
}

/** A stopwatch for durationMs. */
export function stopwatch(): () => number {
  const t0 = performance.now();
  return () => Math.round(performance.now() - t0);
}

export function mib(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

/** How many results ended in each outcome (a code, 'success', 'hang'). */
export function countOutcomes(results: Array<{ outcome: string }>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
  return counts;
}
