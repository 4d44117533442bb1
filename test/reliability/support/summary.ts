// globalSetup of vitest.reliability.config.ts: notes when the run started and,
// at the end, prints one table of the figures this run's scenarios recorded,
// and keeps it as out/reliability/summary.md for docs/reliability.md.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FIGURES_DIR, mib, type RecordedFigures, readFigures } from './figures.js';

export default function setup(): () => Promise<void> {
  const startedAt = Date.now();
  return async () => {
    const figures = await readFigures(startedAt);
    if (figures.length === 0) return;
    const table = summaryTable(figures);
    const total = figures.reduce((n, f) => n + f.durationMs, 0);
    const text = `${table}\n\nmode: ${[...new Set(figures.map((f) => f.mode))].join(', ')}; scenarios' own time: ${(total / 1000).toFixed(1)} s; finished ${new Date().toISOString()}\n`;
    await writeFile(path.join(FIGURES_DIR, 'summary.md'), text);
    console.log(`\nReliability figures (out/reliability/*.json)\n\n${text}`);
  };
}

export function summaryTable(figures: RecordedFigures[]): string {
  const rows = figures.map((f) => [
    f.scenario,
    String(f.rounds),
    String(f.faultsInjected),
    mib(f.bytesServed),
    String(f.failures),
    `${(f.durationMs / 1000).toFixed(1)} s`,
    f.notes,
  ]);
  const head = ['scenario', 'rounds', 'faults injected', 'bytes served', 'failures', 'duration', 'notes'];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}
