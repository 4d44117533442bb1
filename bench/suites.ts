// The three measured suites. Every run gets an empty target and a dropped
// page cache first, so no run profits from the one before it; the contenders
// of a cold round run in a rotating order so drift on a shared VM spreads evenly.

import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { type EngineJob, type EngineResult, syncJob } from './protocol.js';
import { runEngine, timeShell } from './runners.js';
import type { ServerHandle } from './server-client.js';
import { maxInWindow } from './stats.js';
import { dropCaches } from './system.js';

export interface SuiteContext {
  script: string;
  server: ServerHandle;
  tmp: string;
  runs: number;
  log: (line: string) => void;
}

/** Named series of numbers, one value per run. */
export type Series = Record<string, number[]>;

function push(series: Series, name: string, value: number): void {
  const values = series[name] ?? [];
  values.push(value);
  series[name] = values;
}

function job(ctx: SuiteContext, root: string, extra: Partial<EngineJob> = {}): EngineJob {
  return syncJob(ctx.server.info, root, extra);
}

function mustSucceed(r: EngineResult, what: string): EngineResult {
  if (!r.ok) throw new Error(`${what} failed: ${r.error}`);
  return r;
}

/** Resets `dir` and the page cache. Returns whether the cache could be dropped. */
async function fresh(dir: string): Promise<boolean> {
  await rm(dir, { recursive: true, force: true });
  return dropCaches();
}

export async function coldSuite(ctx: SuiteContext): Promise<{ series: Series; cacheDropped: boolean }> {
  const series: Series = {};
  let cacheDropped = true;
  const url = `${ctx.server.info.url}/${ctx.server.info.key}`;
  const file = path.join(ctx.tmp, 'native', 'artifact.tar.gz');
  const engine = (transport: 'got' | 'fetch') => async () => {
    const root = path.join(ctx.tmp, `cold-${transport}`);
    cacheDropped &&= await fresh(root);
    const serverCpu = await ctx.server.cpuMs();
    const r = mustSucceed(
      await runEngine(ctx.script, job(ctx, root, { transport })),
      `cold sync (${transport})`,
    );
    push(series, `serverCpu.${transport}`, (await ctx.server.cpuMs()) - serverCpu);
    push(series, `cold.${transport}`, r.totalMs);
    push(series, `cpu.${transport}`, r.userMs + r.systemMs);
    push(series, `sys.${transport}`, r.systemMs);
    push(series, `faults.${transport}`, r.minorFaults);
    push(series, `preempt.${transport}`, r.preemptions);
    push(series, `rss.${transport}`, r.hwmBytes);
    push(series, `rssBase.${transport}`, r.hwmBeforeBytes);
    push(series, `events.${transport}`, r.eventTimes.length / (r.totalMs / 1000));
    push(series, `eventsMax.${transport}`, maxInWindow(r.eventTimes, 1000));
    push(series, `ticksMax.${transport}`, maxInWindow(r.tickTimes, 1000));
    push(series, `windowMax.${transport}`, maxInWindow(r.windowTimes, 1000));
    push(series, `windowDone.${transport}`, r.windowLastPhase === 'done' ? 1 : 0);
    const { manifest, downloading, received, flushed } = r.marks;
    if (
      manifest !== undefined &&
      downloading !== undefined &&
      received !== undefined &&
      flushed !== undefined
    ) {
      push(series, `stage.${transport}.before`, downloading);
      push(series, `stage.${transport}.receive`, received - downloading);
      push(series, `stage.${transport}.flush`, flushed - received);
      push(series, `stage.${transport}.after`, r.totalMs - flushed);
    }
    return r.totalMs;
  };
  // The three steps are timed apart (one spawn each, as `a && b && c` would run them):
  // the first is `curl -o` alone, and the split shows what each costs.
  const native = async () => {
    cacheDropped &&= await fresh(path.dirname(file));
    await mkdir(path.dirname(file), { recursive: true });
    const curl = await timeShell(`curl -sf -o '${file}' '${url}'`);
    const hash = await timeShell(`openssl dgst -sha256 '${file}'`);
    const flush = await timeShell(`sync '${file}'`);
    push(series, 'curl', curl);
    push(series, 'native.hash', hash);
    push(series, 'native.flush', flush);
    push(series, 'native', curl + hash + flush);
    return curl + hash + flush;
  };
  const contenders: Array<[string, () => Promise<number>]> = [
    ['engine, got', engine('got')],
    ['engine, fetch', engine('fetch')],
    [
      'usual approach',
      async () => {
        const root = path.join(ctx.tmp, 'usual');
        cacheDropped &&= await fresh(root);
        const r = mustSucceed(
          await runEngine(ctx.script, job(ctx, root, { mode: 'usual' })),
          'usual approach',
        );
        push(series, 'usual', r.totalMs);
        push(series, 'rss.usual', r.hwmBytes);
        return r.totalMs;
      },
    ],
    ['curl -o, openssl dgst, sync', native],
  ];
  for (let run = 0; run < ctx.runs; run++) {
    for (let k = 0; k < contenders.length; k++) {
      const [name, go] = contenders[(run + k) % contenders.length]!;
      const ms = await go();
      ctx.log(`  run ${run + 1}/${ctx.runs} ${name}: ${ms.toFixed(0)} ms`);
    }
  }
  return { series, cacheDropped };
}

/**
 * Launch with the artifact cached and the manifest unchanged. "Beyond the
 * manifest" is measured inside the engine run, from the first progress event
 * that lists the artifacts (the manifest is fetched, parsed and validated) to
 * the promise resolving: lock, plan (one stat), manifest and last-sync writes.
 */
export async function warmSuite(ctx: SuiteContext): Promise<Series> {
  const series: Series = {};
  const root = path.join(ctx.tmp, 'warm');
  await fresh(root);
  mustSucceed(await runEngine(ctx.script, job(ctx, root)), 'warm-up sync');
  for (let run = 0; run < ctx.runs; run++) {
    dropCaches();
    const r = mustSucceed(await runEngine(ctx.script, job(ctx, root)), 'warm launch');
    const manifestMs = r.marks.manifest;
    if (!r.skipped || manifestMs === undefined) throw new Error('warm launch downloaded again');
    push(series, 'warm.total', r.totalMs);
    push(series, 'warm.manifest', manifestMs);
    push(series, 'warm.beyond', r.totalMs - manifestMs);
    ctx.log(
      `  run ${run + 1}/${ctx.runs} warm: ${r.totalMs.toFixed(1)} ms, beyond manifest ${(r.totalMs - manifestMs).toFixed(1)} ms`,
    );
  }
  return series;
}

/** A cut at 50 % (server resets the socket once), then the measured second sync. */
export async function resumeSuite(ctx: SuiteContext): Promise<Series> {
  const series: Series = {};
  const { sizeBytes } = ctx.server.info;
  const root = path.join(ctx.tmp, 'resume');
  for (let run = 0; run < ctx.runs; run++) {
    await fresh(root);
    await ctx.server.setFault({ resetAtByte: Math.floor(sizeBytes / 2), times: 1 });
    const cut = await runEngine(ctx.script, job(ctx, root, { expectFailure: true }));
    if (cut.ok || !cut.partialBytes) throw new Error('the cut at 50 % did not leave a partial');
    dropCaches();
    const before = await ctx.server.bytesServed();
    const r = mustSucceed(await runEngine(ctx.script, job(ctx, root)), 'resumed sync');
    const transferred = (await ctx.server.bytesServed()) - before;
    const missing = sizeBytes - cut.partialBytes;
    push(series, 'resume.ms', r.totalMs);
    push(series, 'resume.transferred', transferred);
    push(series, 'resume.missing', missing);
    push(series, 'resume.excess', (transferred - missing) / sizeBytes);
    ctx.log(
      `  run ${run + 1}/${ctx.runs} resume: ${r.totalMs.toFixed(0)} ms, ${transferred} B for ${missing} B missing`,
    );
  }
  return series;
}
