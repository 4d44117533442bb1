// The printed result: what was measured (median and min–max), then each
// target as a ratio or a figure with PASS/FAIL. Markdown, so the same text
// goes into docs/performance.md unchanged.

import { formatSize } from './args.js';
import { type Summary, summarize } from './stats.js';
import type { Series } from './suites.js';

const MB = 1e6;

type Unit = 'ms' | 'bytes' | 'rate' | 'count';

function fmt(value: number, unit: Unit): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (unit === 'ms') return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`;
  if (unit === 'bytes') return `${(value / MB).toFixed(1)} MB`;
  if (unit === 'rate') return `${value.toFixed(1)}/s`;
  return value.toFixed(0);
}

function spread(s: Summary, unit: Unit): string {
  return `${fmt(s.min, unit)} – ${fmt(s.max, unit)}`;
}

export interface ReportInput {
  sizeBytes: number;
  runs: number;
  series: Series;
}

export function report({ sizeBytes, runs, series }: ReportInput): { text: string; allPass: boolean } {
  const s = (name: string) => summarize(series[name] ?? []);
  const lines: string[] = [];
  // A run without syncs (--startup) has no artifact to speak of.
  const synced = Object.keys(series).some((name) => name.startsWith('cold.'));
  lines.push(
    `${synced ? `Artifact ${formatSize(sizeBytes)}, ` : ''}${runs} runs each; median and min – max. MB = 10^6 bytes.`,
    '',
  );
  lines.push('| Measurement | Median | Spread (min – max) |', '|---|---:|---:|');
  const row = (label: string, name: string, unit: Unit) => {
    const x = s(name);
    if (x.n > 0) lines.push(`| ${label} | ${fmt(x.median, unit)} | ${spread(x, unit)} |`);
  };
  for (const t of ['got', 'fetch'] as const) {
    row(`Cold sync, engine (${t})`, `cold.${t}`, 'ms');
    row('&nbsp;&nbsp;call → tarball request (manifest, lock, plan)', `stage.${t}.before`, 'ms');
    row('&nbsp;&nbsp;receive + hash + write', `stage.${t}.receive`, 'ms');
    row('&nbsp;&nbsp;flush (fsync, rename, fsync dir)', `stage.${t}.flush`, 'ms');
    row('&nbsp;&nbsp;manifest write, prune, unlock', `stage.${t}.after`, 'ms');
    row(`&nbsp;&nbsp;CPU time of the process, user + system (${t})`, `cpu.${t}`, 'ms');
    row(`&nbsp;&nbsp;of which system (${t})`, `sys.${t}`, 'ms');
    row(`&nbsp;&nbsp;minor page faults (${t})`, `faults.${t}`, 'count');
    row(`&nbsp;&nbsp;involuntary context switches (${t})`, `preempt.${t}`, 'count');
    row('&nbsp;&nbsp;CPU time of the artifact server meanwhile', `serverCpu.${t}`, 'ms');
  }
  row('Usual approach (fetch → file, re-read to hash, no fsync)', 'usual', 'ms');
  row('Native durable: curl -o, openssl dgst -sha256, sync FILE', 'native', 'ms');
  row('&nbsp;&nbsp;curl -o alone (no hash, no flush)', 'curl', 'ms');
  row('&nbsp;&nbsp;openssl dgst -sha256', 'native.hash', 'ms');
  row('&nbsp;&nbsp;sync FILE', 'native.flush', 'ms');
  row('`vm-cache --version`, installed (dist/cli/bin.js, plain Node)', 'start.built', 'ms');
  row('`vm-cache --version`, dev entry (tsx, sources)', 'start.tsx', 'ms');
  row('&nbsp;&nbsp;`node -e 0` (the floor)', 'start.node', 'ms');
  row('Warm launch, call to resolve', 'warm.total', 'ms');
  row('Warm launch, manifest in and parsed', 'warm.manifest', 'ms');
  row('Warm launch, beyond the manifest', 'warm.beyond', 'ms');
  row('Resume after a cut at 50 %: time', 'resume.ms', 'ms');
  row('Resume: bytes transferred', 'resume.transferred', 'bytes');
  row('Resume: bytes missing', 'resume.missing', 'bytes');
  row('Peak RSS (VmHWM), engine got', 'rss.got', 'bytes');
  row('Peak RSS (VmHWM), engine fetch', 'rss.fetch', 'bytes');
  row('RSS before the call (node + bundle loaded), got', 'rssBase.got', 'bytes');
  row('Peak RSS, usual approach', 'rss.usual', 'bytes');
  row('Progress events per second over the sync, got', 'events.got', 'rate');
  row('Progress events per second over the sync, fetch', 'events.fetch', 'rate');
  row('Progress events in the busiest second, got', 'eventsMax.got', 'count');
  row('Progress events in the busiest second, fetch', 'eventsMax.fetch', 'count');
  row('&nbsp;&nbsp;of which byte-only (throttled) events, got', 'ticksMax.got', 'count');
  row('&nbsp;&nbsp;of which byte-only (throttled) events, fetch', 'ticksMax.fetch', 'count');
  row('Progress messages to a window (IPC hub) in the busiest second, got', 'windowMax.got', 'count');
  row('Progress messages to a window (IPC hub) in the busiest second, fetch', 'windowMax.fetch', 'count');

  lines.push('', '| Target | Measured | Goal | Result |', '|---|---:|---:|:---:|');
  let checked = 0;
  let passed = 0;
  const check = (label: string, measured: string, goal: string, pass: boolean) => {
    // A figure this run did not take (a ratio of nothing is NaN) is no target missed.
    if (measured.startsWith('n/a') || measured.startsWith('NaN')) return;
    checked += 1;
    if (pass) passed += 1;
    lines.push(`| ${label} | ${measured} | ${goal} | ${pass ? 'PASS' : 'FAIL'} |`);
  };
  const ratio = (a: string, b: string) => s(a).median / s(b).median;
  for (const t of ['got', 'fetch'] as const) {
    const vsNative = ratio(`cold.${t}`, 'native');
    check(`Cold sync (${t}) / native durable`, `${vsNative.toFixed(2)}×`, '≤ 1.25×', vsNative <= 1.25);
    const vsUsual = ratio(`cold.${t}`, 'usual');
    check(`Cold sync (${t}) / usual approach`, `${vsUsual.toFixed(2)}×`, '< 1.00×', vsUsual < 1);
  }
  const start = s('start.built').median;
  check('`vm-cache --version` start to exit, installed', fmt(start, 'ms'), '< 150 ms', start < 150);
  const beyond = s('warm.beyond').median;
  check('Warm launch beyond the manifest', fmt(beyond, 'ms'), '< 50 ms', beyond < 50);
  const rssGoal = 150 * MB;
  for (const t of ['got', 'fetch'] as const) {
    const peak = s(`rss.${t}`).max;
    check(`Peak RSS (${t}), worst run`, fmt(peak, 'bytes'), '< 150 MB', peak < rssGoal);
  }
  const excess = s('resume.excess').max;
  check(
    'Resume: transferred beyond the missing part, worst run',
    Number.isFinite(excess) ? `${(excess * 100).toFixed(2)} % of size` : 'n/a',
    '≤ 1 %',
    excess <= 0.01,
  );
  for (const t of ['got', 'fetch'] as const) {
    const peak = s(`windowMax.${t}`).max;
    // The trailing edge must still deliver 'done': a limit that drops the end is no limit.
    const allDone = s(`windowDone.${t}`).min === 1;
    check(
      `Progress messages to a window in any 1 s (${t}), worst run${allDone ? '' : ', last one not "done"'}`,
      fmt(peak, 'count'),
      '≤ 10',
      peak <= 10 && allDone,
    );
  }
  for (const t of ['got', 'fetch'] as const) {
    const peak = s(`eventsMax.${t}`).max;
    check(
      `Progress events to onProgress in any 1 s (${t}), worst run`,
      fmt(peak, 'count'),
      '≤ 10',
      peak <= 10,
    );
  }
  if (sizeBytes !== 1 << 30 && s('rss.got').n > 0)
    lines.push('', 'The RSS target is set for 1 GiB; run with `--size 1G` for the figure that counts.');
  lines.push('', `${passed} of ${checked} targets met.`);
  return { text: lines.join('\n'), allPass: passed === checked };
}
