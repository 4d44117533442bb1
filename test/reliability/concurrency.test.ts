// Concurrency on one root: three processes, each making several in-process
// calls, repeated over new versions: every artifact is downloaded once per
// round, every call succeeds, the lock is released. And a process SIGKILLed
// while holding the lock, with another one waiting for it: the waiter takes
// over at once and resumes the dead one's partial. Full mode only.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { lockPath } from '../../main/engine/local-state.js';
import { recordFigures, stopwatch } from './support/figures.js';
import { inspectCache } from './support/invariants.js';
import { cliAvailable, startSyncProcess } from './support/launch.js';
import { FULL, MiB } from './support/mode.js';
import { sandbox } from './support/sandbox.js';
import { versionedServer } from './support/versions.js';

const ROUNDS = 5;
const PROCESSES = 3;
const CALLS_PER_PROCESS = 3;
const TAKEOVER_ROUNDS = 3;

interface RoundFigures {
  test: 'shared' | 'takeover';
  round: number;
  violations: string[];
  [figure: string]: unknown;
}
const results: RoundFigures[] = [];
const elapsed = stopwatch();
let bytesServed = 0;

describe.runIf(FULL)('concurrency', () => {
  afterAll(async () => {
    const shared = results.filter((r) => r.test === 'shared');
    const takeovers = results.filter((r) => r.test === 'takeover');
    await recordFigures({
      scenario: 'concurrency',
      rounds: results.length,
      faultsInjected: takeovers.length,
      bytesServed,
      failures: results.filter((r) => r.violations.length > 0).length,
      durationMs: elapsed(),
      notes:
        `${shared.length} rounds of ${PROCESSES} processes x ${CALLS_PER_PROCESS} calls: downloads per artifact per round ${JSON.stringify([...new Set(shared.map((r) => r.maxRequestsPerArtifact))])}, waiters per round ${JSON.stringify(shared.map((r) => r.waiters))}; ` +
        `${takeovers.length} SIGKILLs of the lock holder: takeover after ${JSON.stringify(takeovers.map((r) => r.takeoverMs))} ms, bytes served ${JSON.stringify(takeovers.map((r) => r.ratio))}x`,
      detail: results,
    });
  });

  it(`${ROUNDS} rounds: ${PROCESSES} processes x ${CALLS_PER_PROCESS} calls on one root, each artifact downloaded once, lock released`, async () => {
    // Throttled so the first process still holds the lock when the others arrive.
    const vs = await versionedServer({
      count: ROUNDS,
      sizeBytes: 4 * MiB,
      arches: ['x64', 'arm64'],
      throttleBytesPerSec: 3_000_000,
    });
    const box = await sandbox();
    const exp = vs.expectation('*');
    const allViolations: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const v = vs.publish(round);
      const firstRequest = vs.s.requests.length;
      const runs = Array.from({ length: PROCESSES }, () =>
        startSyncProcess('sync-child', {
          root: box.root,
          manifestUrl: vs.s.manifestUrl,
          concurrentCalls: CALLS_PER_PROCESS,
        }),
      );
      const outs = await Promise.all(runs.map((r) => r.done));
      const violations: string[] = [];
      for (const out of outs) {
        if (out.code !== 0 || !out.result)
          violations.push(`a process failed: ${out.error} ${out.errorMessage} ${out.stderr}`);
        // The calls inside one process share one sync (one promise).
        if (out.shared !== true) violations.push('in-process calls did not share one sync');
      }
      const requests = vs.s.requests.slice(firstRequest);
      const perArtifact = Object.values(v.keys).map((k) => requests.filter((r) => r.path === k).length);
      if (perArtifact.some((n) => n !== 1))
        violations.push(`requests per artifact: ${JSON.stringify(perArtifact)}`);
      const downloaders = outs.filter((o) => o.result && !o.result.skipped).length;
      if (downloaders !== 1) violations.push(`${downloaders} processes downloaded`);
      if (existsSync(lockPath(box.root))) violations.push('the lock was not released');
      const report = await inspectCache(box.root, exp);
      violations.push(...report.violations);
      if (report.manifest !== v.text) violations.push('manifest.json is not this round’s');
      violations.push(...(await box.outsideWrites()));
      results.push({
        test: 'shared',
        round,
        violations,
        maxRequestsPerArtifact: Math.max(...perArtifact),
        downloaders,
        waiters: outs.filter((o) => o.phases.includes('waiting-for-lock')).length,
        processMs: outs.map((o) => o.ms),
      });
      allViolations.push(...violations.map((x) => `round ${round}: ${x}`));
    }
    bytesServed += vs.s.bytesServed();
    expect(allViolations).toEqual([]);
  }, 240_000);

  it(`${TAKEOVER_ROUNDS} rounds: the lock holder is SIGKILLed mid-download, the waiting process takes over at once`, async () => {
    const size = 8 * MiB;
    const vs = await versionedServer({ count: TAKEOVER_ROUNDS, sizeBytes: size });
    const box = await sandbox();
    const exp = vs.expectation('x64');
    const useCli = cliAvailable();
    const allViolations: string[] = [];
    for (let round = 0; round < TAKEOVER_ROUNDS; round++) {
      const v = vs.publish(round);
      const key = v.keys.x64!;
      // Only the first request is slow: the holder is caught mid-download, the taker resumes quickly.
      // Slow enough (8 s) that the waiter, a new process that compiles on start, is waiting for the
      // lock before the holder is done, even on a loaded machine (at 4 MiB/s it sometimes was not).
      vs.s.setFault(key, { dripBytesPerSec: MiB, times: 1 });
      const holder = startSyncProcess(useCli ? 'cli' : 'sync-child', {
        root: box.root,
        manifestUrl: vs.s.manifestUrl,
      });
      const violations: string[] = [];
      await holder.waitForStep((s) => s.startsWith('downloading'), 30_000);
      const owner = JSON.parse(await readFile(lockPath(box.root), 'utf8')) as { pid: number };
      if (owner.pid !== holder.pid)
        violations.push(`the lock names pid ${owner.pid}, not the holder ${holder.pid}`);
      const waiter = startSyncProcess('sync-child', { root: box.root, manifestUrl: vs.s.manifestUrl });
      await waiter.waitForStep((s) => s === 'waiting-for-lock', 30_000);
      holder.kill('SIGKILL');
      const killedAt = performance.now();
      await holder.done;
      const servedAtKill = vs.s.bytesServed(key);
      const out = await waiter.done;
      const takeoverMs = Math.round(performance.now() - killedAt);
      if (out.code !== 0 || out.result?.downloaded[0] !== key)
        violations.push(`the waiter failed: ${out.error} ${out.errorMessage} ${out.stderr}`);
      // Dead owner on this host: no waiting for the 15 s heartbeat staleness.
      if (takeoverMs > 5_000) violations.push(`takeover took ${takeoverMs} ms`);
      const ratio = Number((vs.s.bytesServed(key) / size).toFixed(3));
      if (ratio >= 1.5) violations.push(`${ratio}x the artifact served: the partial was not resumed`);
      if (existsSync(lockPath(box.root))) violations.push('the lock was not released');
      const report = await inspectCache(box.root, exp);
      violations.push(...report.violations);
      if (report.manifest !== v.text) violations.push('manifest.json is not this round’s');
      results.push({
        test: 'takeover',
        round,
        violations,
        holder: holder.pid === undefined ? undefined : useCli ? 'cli' : 'sync-child',
        servedAtKill,
        takeoverMs,
        ratio,
      });
      allViolations.push(...violations.map((x) => `round ${round}: ${x}`));
    }
    bytesServed += vs.s.bytesServed();
    expect(allViolations).toEqual([]);
  }, 240_000);
});
