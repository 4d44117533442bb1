// One measured run in a fresh process (clean heap, cold JIT, as on an app's
// launch), bundled by bench/bundle.ts and run with plain node so no loader
// sits in the memory figure. argv[2] is an EngineJob; the last stdout line is
// an EngineResult. Timing starts after the imports: an app has paid those already.

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';
import { CHANNELS, PROGRESS_CHANNEL, type SyncProgress } from '../contract/index.js';
import { ensureVmCacheSynced, VmCacheError } from '../main/engine/index.js';
import { VmCacheController, VmCacheHub } from '../main/service/index.js';
import type { EngineJob, EngineResult, Mark } from './protocol.js';

const MARK_OF_STATE: Partial<Record<string, Mark>> = {
  downloading: 'downloading',
  verifying: 'received',
  verified: 'flushed',
};

/** The kernel's high-water mark of this process's RSS: a true peak, unlike sampling. */
function vmHwmBytes(): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

async function statSize(file: string): Promise<number> {
  return fs.stat(file).then(
    (s) => s.size,
    () => 0,
  );
}

/** What most projects do: stream to a file, then read it back to hash. No fsync. */
async function usualApproach(job: EngineJob): Promise<void> {
  const file = path.join(job.root, 'usual.tar.gz');
  const res = await fetch(job.url);
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
  await pipeline(Readable.fromWeb(res.body as NodeReadableStream<Uint8Array>), createWriteStream(file));
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  if (hash.digest('hex') !== job.sha256) throw new Error('sha256 mismatch');
}

async function main(): Promise<EngineResult> {
  const job = JSON.parse(process.argv[2] ?? '{}') as EngineJob;
  await fs.mkdir(job.root, { recursive: true });
  const eventTimes: number[] = [];
  const tickTimes: number[] = [];
  const marks: EngineResult['marks'] = {};
  let previous = '';
  let delta: EngineResult['delta'];
  const onProgress = (p: SyncProgress) => {
    const at = performance.now() - t0;
    eventTimes.push(at);
    const a = p.artifacts[0];
    const signature = `${p.phase}|${p.attempt}|${a?.state}`;
    if (signature === previous) tickTimes.push(at);
    previous = signature;
    if (!a) return;
    if (a.delta) delta = a.delta;
    marks.manifest ??= at;
    const mark = MARK_OF_STATE[a.state];
    if (mark) marks[mark] ??= at;
  };
  // A window subscribed through the IPC hub, as in the app: the hub watches
  // syncs on the root, whoever started them, and holds each window to its rate.
  const windowTimes: number[] = [];
  let windowLast: SyncProgress | undefined;
  const hub = new VmCacheHub({
    controller: new VmCacheController({ root: job.root }),
    isAllowedSender: () => true,
  });
  const sender = { id: 1, url: 'app://bench/index.html', isMainFrame: true };
  await hub.invoke(CHANNELS.subscribe, [], sender, (channel, payload) => {
    if (channel !== PROGRESS_CHANNEL) return;
    windowTimes.push(performance.now() - t0);
    windowLast = payload as SyncProgress;
  });
  const hwmBeforeBytes = vmHwmBytes();
  const usage0 = process.resourceUsage();
  const t0 = performance.now();
  const base = () => {
    const usage = process.resourceUsage();
    return {
      totalMs: performance.now() - t0,
      userMs: (usage.userCPUTime - usage0.userCPUTime) / 1000,
      systemMs: (usage.systemCPUTime - usage0.systemCPUTime) / 1000,
      minorFaults: usage.minorPageFault - usage0.minorPageFault,
      preemptions: usage.involuntaryContextSwitches - usage0.involuntaryContextSwitches,
      hwmBeforeBytes,
      hwmBytes: vmHwmBytes(),
      eventTimes,
      tickTimes,
      windowTimes,
      marks,
    };
  };
  try {
    if (job.mode === 'usual') {
      await usualApproach(job);
      return { ok: true, ...base() };
    }
    const result = await ensureVmCacheSynced({
      root: job.root,
      manifestUrl: job.manifestUrl,
      rawHostArch: 'x64',
      ...(job.transport === 'fetch' ? { fetchImpl: fetch } : {}),
      ...(job.delta === undefined ? {} : { delta: job.delta }),
      ...(job.limitRate === undefined ? {} : { limitRate: job.limitRate }),
      ...(job.connections === undefined ? {} : { connections: job.connections }),
      // A subscriber that does almost nothing, so what is measured is the delivery.
      onProgress,
    });
    const measured = base();
    // The hub's last message may still be on its trailing edge (up to one interval).
    for (let waited = 0; windowLast?.phase !== 'done' && waited < 500; waited += 10) await sleep(10);
    hub.dispose();
    return {
      ok: true,
      ...measured,
      windowLastPhase: windowLast?.phase ?? 'none',
      downloaded: result.downloaded,
      skipped: result.skipped,
      ...(delta ? { delta } : {}),
    };
  } catch (err) {
    const out: EngineResult = {
      ok: false,
      ...base(),
      error: err instanceof Error ? err.message : String(err),
    };
    if (err instanceof VmCacheError) out.errorCode = err.code;
    if (job.expectFailure)
      out.partialBytes = await statSize(path.join(job.root, 'cache', `${job.key}.partial`));
    return out;
  }
}

const result = await main();
// Exit at once: keep-alive sockets and unref'd timers are not part of the run.
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
