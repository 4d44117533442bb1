// Soak: hundreds of syncs in a row, in this process, against a server where
// one request in five fails once (503, a reset, a stall), cold and warm syncs
// alternating so bytes actually flow. Every sync succeeds (retries: 5), the
// cache stays coherent, and open file descriptors and memory at the end are
// those of the start, give or take noise.
import { describe, expect, it } from 'vitest';
import { clearVmCache, ensureVmCacheSynced, type VmCacheOptions } from '../../main/engine/index.js';
import { type Fault, MANIFEST_KEY } from '../../server/index.js';
import { mib, recordFigures, stopwatch } from './support/figures.js';
import { inspectCache } from './support/invariants.js';
import { byMode } from './support/mode.js';
import { memorySample, openFds } from './support/process-stats.js';
import { sandbox } from './support/sandbox.js';
import { versionedServer } from './support/versions.js';

const SYNCS = byMode(200, 20);
const WARMUP = 6;
const SIZE = 512 * 1024;
const FAIL_RATE = 0.2;
const MAX_HEAP_GROWTH = 20 * 1024 * 1024;

type FaultKind = '503' | 'reset' | 'stall';

describe('soak', () => {
  it(
    `${SYNCS} syncs, one request in five failing once: all succeed, no fd or memory growth`,
    async () => {
      const elapsed = stopwatch();
      // Cold syncs alternate between a cleared root and a new version: a version per two syncs, and spares.
      const vs = await versionedServer({ count: Math.ceil((SYNCS + WARMUP) / 4) + 2, sizeBytes: SIZE });
      const box = await sandbox();
      const exp = vs.expectation('x64');
      const options: VmCacheOptions = {
        root: box.root,
        manifestUrl: vs.s.manifestUrl,
        rawHostArch: 'x64',
        retries: 5,
        retryPolicy: { baseDelayMs: 5, maxDelayMs: 50 },
        stallTimeoutMs: 300,
        timeoutMs: 5_000,
      };
      const manifestSize = Buffer.byteLength(vs.versions[0]!.text);
      let version = 0;
      vs.publish(version);

      const violations: string[] = [];
      const injected: Record<FaultKind, number> = { '503': 0, reset: 0, stall: 0 };
      let faults = 0;
      let retriesSeen = 0;
      let requests = 0;
      let cold = 0;
      let bytes = 0;
      const durations: number[] = [];

      const syncOnce = async (i: number, counted: boolean) => {
        // Even syncs are cold: every other one on a cleared root, the rest on a new version.
        const isCold = i % 2 === 0;
        if (isCold && i % 4 === 0) await clearVmCache({ root: box.root });
        else if (isCold && version + 1 < vs.versions.length) vs.publish(++version);
        const key = vs.versions[version]!.keys.x64!;
        const slots = isCold ? [MANIFEST_KEY, key] : [MANIFEST_KEY];
        let planted = 0;
        for (const path of slots) {
          if (Math.random() >= FAIL_RATE) continue;
          const kind = (['503', 'reset', 'stall'] as const)[Math.floor(Math.random() * 3)]!;
          vs.s.setFault(path, faultOf(kind, path === MANIFEST_KEY ? manifestSize : SIZE));
          planted++;
          if (counted) injected[kind]++;
        }
        const firstRequest = vs.s.requests.length;
        const bytesBefore = vs.s.bytesServed();
        const t0 = performance.now();
        const result = await ensureVmCacheSynced(options).catch((e: Error & { code?: string }) => e);
        durations.push(performance.now() - t0);
        for (const path of slots) vs.s.setFault(path, undefined);
        const made = vs.s.requests.slice(firstRequest);
        // Each planted fault fails one request, which is retried once: one extra request per fault.
        const retried = made.length - slots.length;
        if (result instanceof Error) violations.push(`sync ${i}: ${result.code} ${result.message}`);
        else if (isCold !== result.downloaded.includes(key))
          violations.push(`sync ${i}: ${JSON.stringify(result)}`);
        if (retried !== planted)
          violations.push(`sync ${i}: ${planted} faults planted, ${retried} requests retried`);
        const report = await inspectCache(box.root, exp);
        violations.push(...report.violations.map((v) => `sync ${i}: ${v}`));
        if (counted) {
          faults += planted;
          retriesSeen += retried;
          requests += made.length;
          cold += isCold ? 1 : 0;
          bytes += vs.s.bytesServed() - bytesBefore;
        }
      };

      // Warm-up: connection pools, module caches and JIT settle before the first measurement.
      for (let i = 0; i < WARMUP; i++) await syncOnce(i, false);
      const start = { fds: openFds(), memory: await memorySample() };
      for (let i = WARMUP; i < WARMUP + SYNCS; i++) await syncOnce(i, true);
      // Both measurements follow a warm sync, so idle keep-alive sockets are alike.
      const end = { fds: openFds(), memory: await memorySample() };

      const heapGrowth = end.memory.heapUsed - start.memory.heapUsed;
      if (Math.abs(end.fds.total - start.fds.total) > 2)
        violations.push(`fds ${JSON.stringify(start.fds)} -> ${JSON.stringify(end.fds)}`);
      if (end.fds.files > start.fds.files)
        violations.push(`file handles leak: ${start.fds.files} -> ${end.fds.files}`);
      if (heapGrowth > MAX_HEAP_GROWTH) violations.push(`heap grew by ${mib(heapGrowth)}`);
      const sorted = [...durations].sort((a, b) => a - b);
      await recordFigures({
        scenario: 'soak',
        rounds: SYNCS,
        faultsInjected: faults,
        bytesServed: bytes,
        failures: violations.length,
        durationMs: elapsed(),
        notes: `${cold} cold / ${SYNCS - cold} warm; ${faults} faults in ${requests} requests (${JSON.stringify(injected)}); fds ${start.fds.total} -> ${end.fds.total}; heap ${mib(start.memory.heapUsed)} -> ${mib(end.memory.heapUsed)}${end.memory.gc ? ' (after gc)' : ' (min of samples)'}; rss ${mib(start.memory.rss)} -> ${mib(end.memory.rss)}; sync p50 ${Math.round(sorted[Math.floor(sorted.length / 2)]!)} ms, max ${Math.round(sorted.at(-1)!)} ms`,
        detail: { start, end, injected, faults, retriesSeen, requests, cold, violations },
      });
      expect(violations).toEqual([]);
    },
    byMode(400_000, 60_000),
  );
});

/** One failure of the next request for a path. Stalls and resets land inside the body (byte 0 would send no headers). */
function faultOf(kind: FaultKind, bodySize: number): Fault {
  const inside = 1 + Math.floor(Math.random() * (bodySize - 2));
  if (kind === '503') return { status: 503, times: 1 };
  if (kind === 'reset') return { resetAtByte: inside, times: 1 };
  return { stallAtByte: inside, times: 1 };
}
