// npm run bench [-- --size 256M|1G] [--runs N] [--out FILE] [--profile] [--engine DIR] [--compare DIR] [--startup] [--delta] [--network]
// Builds the child programs, starts the artifact server in its own process,
// runs the suites and prints the table with the targets (see docs/performance.md).

import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { formatSize, parseArgs } from './args.js';
import { bundle } from './bundle.js';
import { compare } from './compare.js';
import { deltaSuite } from './delta.js';
import { networkSuite } from './network.js';
import { profileRun } from './profile.js';
import { syncJob } from './protocol.js';
import { report } from './report.js';
import { ServerHandle } from './server-client.js';
import { startupSuite } from './startup.js';
import { coldSuite, resumeSuite, type SuiteContext, warmSuite } from './suites.js';
import { describeMachine, dropCaches, loadAverage, onTmpfs } from './system.js';

const args = parseArgs(process.argv.slice(2));
const log = (line: string) => console.error(line);

if (args.startupOnly) {
  const { text } = report({
    sizeBytes: args.sizeBytes,
    runs: args.runs,
    series: startupSuite(args.runs, log),
  });
  console.log(text);
  process.exit(0);
}

/** The machine's state before a suite that stands alone: warnings that make its figures noisy, and its description. */
function machineFor(work: string): string[] {
  if (!dropCaches()) log('warning: cannot drop the page cache (not root?): runs may read from memory');
  if (loadAverage() > 0.5) log(`warning: load average ${loadAverage().toFixed(2)}: timings will be noisy`);
  return describeMachine(work);
}

/** A stand-alone suite's report: its table, how it ran, the load at the end and the machine. */
async function printSuite(text: string, ranHow: string, machine: string[]): Promise<void> {
  const loads = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const out = [
    text,
    ranHow,
    `Load average at the end: ${loads}`,
    '',
    'Machine:',
    ...machine.map((m) => `- ${m}`),
  ];
  console.log(out.join('\n'));
  if (args.out) await writeFile(args.out, `${out.join('\n')}\n`);
}

if (args.delta) {
  // Its own data (real npm packages, kept in a fixed folder between runs) and
  // servers: it shares only the engine child and the machine's description.
  const work = path.join(os.tmpdir(), 'vm-cache-delta');
  await mkdir(work, { recursive: true });
  const machine = machineFor(work);
  const text = await deltaSuite(work, args.runs, log);
  await printSuite(
    text,
    `Runs: ${args.runs} each; times are medians (min–max). Engine and CLI: ${checkout()}.`,
    machine,
  );
  process.exit(0);
}

if (args.network) {
  // nginx on 127.0.0.1 with and without a per-connection cap (bench/network.ts);
  // its own defaults: 192 MiB, 3 runs (each capped run lasts seconds).
  const work = await mkdtemp(path.join(os.tmpdir(), 'vm-cache-network-'));
  if (onTmpfs(work)) log(`warning: ${work} is tmpfs; set TMPDIR to a folder on a real disk`);
  const machine = machineFor(work);
  const runs = args.runsGiven ? args.runs : 3;
  try {
    const bundles = await bundle(path.join(work, 'bin'), args.engineDir);
    const text = await networkSuite({
      script: bundles.engineRun,
      work,
      sizeBytes: args.sizeGiven ? args.sizeBytes : 192 << 20,
      runs,
      log,
    });
    const engine = args.engineDir ? `copy in ${args.engineDir} (experiment)` : 'main/engine';
    await printSuite(
      text,
      `Runs: ${runs} each; times are medians (min–max). Engine: ${engine}, ${checkout()}.`,
      machine,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  process.exit(0);
}

/** Which engine was measured: the commit, and whether the engine or the CLI had uncommitted edits. */
function checkout(): string {
  const git = (...a: string[]) => execFileSync('git', a, { encoding: 'utf8', stdio: 'pipe' }).trim();
  try {
    const dirty = git('status', '--porcelain', '--', 'main', 'contract', 'cli') !== '';
    return `commit ${git('rev-parse', '--short', 'HEAD')}${dirty ? ' with uncommitted edits' : ''}`;
  } catch {
    return 'not a git checkout';
  }
}

const tmp = await mkdtemp(path.join(os.tmpdir(), 'vm-cache-bench-'));
if (onTmpfs(tmp)) log(`warning: ${tmp} is tmpfs; set TMPDIR to a folder on a real disk`);
if (loadAverage() > 0.5) log(`warning: load average ${loadAverage().toFixed(2)}: timings will be noisy`);
if (!dropCaches()) log('warning: cannot drop the page cache (not root?): runs may read from memory');

const machine = describeMachine(tmp);
const bundles = await bundle(path.join(tmp, 'bin'), args.engineDir);
const server = await ServerHandle.start(bundles.serverProcess, args.sizeBytes);
log(`artifact server ${server.info.url}, ${formatSize(args.sizeBytes)}, work dir ${tmp}`);
const ctx: SuiteContext = { script: bundles.engineRun, server, tmp, runs: args.runs, log };

try {
  if (args.compareDir) {
    const copy = await bundle(path.join(tmp, 'bin-copy'), args.compareDir);
    const variants = [
      { name: 'main/engine', script: bundles.engineRun },
      { name: args.compareDir, script: copy.engineRun },
    ];
    const text = await compare(variants, server, tmp, args.runs, log);
    console.log(text);
    if (args.out) await writeFile(args.out, `${text}\n`);
  } else if (args.profile) {
    for (const transport of ['got', 'fetch'] as const) {
      const root = path.join(tmp, `prof-root-${transport}`);
      dropCaches();
      console.log(await profileRun(bundles.engineRun, tmp, syncJob(server.info, root, { transport })));
    }
  } else {
    log('cold sync, usual approach, native tools:');
    const cold = await coldSuite(ctx);
    log('warm launch:');
    const warm = await warmSuite(ctx);
    log('resume:');
    const resume = await resumeSuite(ctx);
    log('CLI start-up:');
    const startup = startupSuite(Math.max(10, ctx.runs * 2), log);
    const { text } = report({
      sizeBytes: args.sizeBytes,
      runs: args.runs,
      series: { ...cold.series, ...warm, ...resume, ...startup },
    });
    const notes = [
      `Engine: ${args.engineDir ? `copy in ${args.engineDir} (experiment)` : 'main/engine'}.`,
      cold.cacheDropped ? 'Page cache dropped before every run.' : 'Page cache NOT dropped (not root).',
      `Load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    ];
    const out = [text, '', ...notes, '', 'Machine:', ...machine.map((m) => `- ${m}`)].join('\n');
    console.log(out);
    if (args.out) await writeFile(args.out, `${out}\n`);
  }
} finally {
  await server.stop();
  // The profile is the point of --profile: keep the folder then.
  if (!args.profile) await rm(tmp, { recursive: true, force: true });
}
