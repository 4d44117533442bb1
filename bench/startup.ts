// How long `vm-cache --version` takes from spawn to exit: the installed
// command (dist/cli/bin.js on plain Node), the repository's dev entry (tsx
// compiling the sources) and a bare `node -e 0` for the floor. A CLI that
// loads the whole engine (got, zod) to print its version pays ~110 ms more.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { summarize } from './stats.js';
import type { Series } from './suites.js';

const REPO = path.resolve(import.meta.dirname, '..');
export const BUILT_CLI = path.join(REPO, 'dist', 'cli', 'bin.js');
const DEV_CLI = path.join(REPO, 'cli', 'vm-cache.mjs');

function timeRun(args: string[]): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/** Builds dist/ when it is missing (the command measured is the one the package ships). */
export function ensureBuilt(log: (line: string) => void): void {
  if (existsSync(BUILT_CLI)) return;
  log('building dist/ (npm run build) for the CLI start-up figures');
  const r = spawnSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
}

export function startupSuite(runs: number, log: (line: string) => void): Series {
  ensureBuilt(log);
  const series: Series = { 'start.node': [], 'start.built': [], 'start.tsx': [] };
  // One untimed run of each first: the tsx cache and the OS's file cache are warm for every timed run.
  timeRun(['-e', '0']);
  timeRun([BUILT_CLI, '--version']);
  timeRun([DEV_CLI, '--version']);
  for (let run = 0; run < runs; run++) {
    series['start.node']!.push(timeRun(['-e', '0']));
    series['start.built']!.push(timeRun([BUILT_CLI, '--version']));
    series['start.tsx']!.push(timeRun([DEV_CLI, '--version']));
  }
  const median = (name: string) => summarize(series[name]!).median.toFixed(1);
  log(
    `  vm-cache --version: built ${median('start.built')} ms, tsx ${median('start.tsx')} ms, node -e 0 ${median('start.node')} ms`,
  );
  return series;
}
