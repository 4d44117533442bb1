// `npm run bench -- --compare DIR`: cold syncs of main/engine and of a copy in
// DIR, alternating run by run, so that both see the same machine. Separate
// suite runs drift by 10-20 % on a shared VM; a tuning gain smaller than that
// only shows up paired like this.

import { rm } from 'node:fs/promises';
import path from 'node:path';
import { type EngineResult, syncJob } from './protocol.js';
import { runEngine } from './runners.js';
import type { ServerHandle } from './server-client.js';
import { summarize } from './stats.js';
import { dropCaches } from './system.js';

interface Variant {
  name: string;
  script: string;
}

const COLUMNS: Array<[string, 'ms' | 'MB', (r: EngineResult) => number | undefined]> = [
  ['sync', 'ms', (r) => r.totalMs],
  ['receive + hash + write', 'ms', (r) => diff(r.marks.received, r.marks.downloading)],
  ['flush', 'ms', (r) => diff(r.marks.flushed, r.marks.received)],
  ['CPU', 'ms', (r) => r.userMs + r.systemMs],
  ['of which system', 'ms', (r) => r.systemMs],
  ['peak RSS', 'MB', (r) => r.hwmBytes / 1e6],
];

function diff(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a - b;
}

export async function compare(
  variants: Variant[],
  server: ServerHandle,
  tmp: string,
  runs: number,
  log: (line: string) => void,
): Promise<string> {
  const results = new Map<string, EngineResult[]>();
  const { info } = server;
  for (let run = 0; run < runs; run++) {
    for (const transport of ['got', 'fetch'] as const) {
      for (let k = 0; k < variants.length; k++) {
        const v = variants[(run + k) % variants.length]!;
        const root = path.join(tmp, 'compare');
        await rm(root, { recursive: true, force: true });
        dropCaches();
        const r = await runEngine(v.script, syncJob(info, root, { transport }));
        if (!r.ok) throw new Error(`${v.name} (${transport}) failed: ${r.error}`);
        const key = `${v.name}|${transport}`;
        results.set(key, [...(results.get(key) ?? []), r]);
        log(`  run ${run + 1}/${runs} ${v.name}, ${transport}: ${r.totalMs.toFixed(0)} ms`);
      }
    }
  }
  const lines = [
    `| Engine | Transport | ${COLUMNS.map(([c]) => c).join(' | ')} |`,
    `|---|---|${COLUMNS.map(() => '---:').join('|')}|`,
  ];
  for (const transport of ['got', 'fetch'] as const) {
    for (const v of variants) {
      const rs = results.get(`${v.name}|${transport}`) ?? [];
      const cells = COLUMNS.map(([, unit, pick]) => {
        const s = summarize(rs.map(pick).filter((x): x is number => x !== undefined));
        return `${s.median.toFixed(0)} ${unit} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
      });
      lines.push(`| ${v.name} | ${transport} | ${cells.join(' | ')} |`);
    }
  }
  return [`Cold syncs, ${runs} runs each, alternating; median (min–max).`, '', ...lines].join('\n');
}
