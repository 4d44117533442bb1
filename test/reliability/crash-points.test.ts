// Crash points: the sync process SIGKILLed at exact moments (support/
// crash-points.ts), each several times in a row, on a new version every time
// so every point recurs. After every kill the cache invariants hold (at most
// one temp file, manifest only over verified tarballs); after each series one
// plain sync succeeds at once and leaves no temp file and no lock behind.
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { lockPath } from '../../main/engine/local-state.js';
import { CRASH_POINTS, killAt } from './support/crash-points.js';
import { recordFigures, stopwatch } from './support/figures.js';
import { inspectCache } from './support/invariants.js';
import { cliAvailable, startSyncProcess } from './support/launch.js';
import { byMode, FULL, MiB } from './support/mode.js';
import { sandbox } from './support/sandbox.js';
import { versionedServer } from './support/versions.js';

const KILLS_PER_POINT = byMode(3, 2);
const MAX_TRIES = KILLS_PER_POINT * 3;
// Fast mode keeps the two points whose leftovers must not pile up.
const POINTS = FULL ? CRASH_POINTS : CRASH_POINTS.filter((p) => p.name.includes('temp file'));

interface PointFigures {
  point: string;
  kills: number;
  hits: number;
  misses: number;
  recoveryMs: number;
  waitedForLock: boolean;
  violations: string[];
}
const results: PointFigures[] = [];
const elapsed = stopwatch();
let bytesServed = 0;

describe('crash points', () => {
  afterAll(async () => {
    await recordFigures({
      scenario: 'crash-points',
      rounds: results.reduce((n, r) => n + r.kills, 0),
      faultsInjected: results.reduce((n, r) => n + r.hits, 0),
      bytesServed,
      failures: results.filter((r) => r.violations.length > 0).length,
      durationMs: elapsed(),
      notes: `${results.length} points x ${KILLS_PER_POINT} kills; landed ${results.reduce((n, r) => n + r.hits, 0)}, late (sync done first, retried) ${results.reduce((n, r) => n + r.misses, 0)}; slowest recovery ${Math.max(...results.map((r) => r.recoveryMs))} ms; failing points: ${
        results
          .filter((r) => r.violations.length > 0)
          .map((r) => r.point)
          .join(', ') || 'none'
      }`,
      detail: results,
    });
  });

  for (const point of POINTS) {
    it(`killed at "${point.name}", ${KILLS_PER_POINT} times in a row: coherent after each, then a clean sync`, async () => {
      const useCli = cliAvailable();
      const vs = await versionedServer({ count: MAX_TRIES + 2, sizeBytes: 1 * MiB });
      const box = await sandbox();
      const exp = vs.expectation('x64');
      const start = () =>
        startSyncProcess(useCli ? 'cli' : 'sync-child', { root: box.root, manifestUrl: vs.s.manifestUrl });
      // A complete cache first, so the points that come late in a sync are reached from a real state.
      vs.publish(0);
      await start().done;
      const violations: string[] = [];
      let hits = 0;
      // A kill sent a moment too late (a loaded machine) finds the sync done:
      // that run is checked like any other and the kill is tried again.
      let version = 0;
      let misses = 0;
      for (let i = 1; i <= KILLS_PER_POINT && version < MAX_TRIES; ) {
        const v = vs.publish(++version);
        const { run, hit } = await killAt(box.root, v.keys.x64!, point, start);
        const out = await run.done;
        const killed = hit && out.signal === 'SIGKILL';
        if (!killed && out.code !== 0)
          violations.push(`run ${version}: the sync failed: ${out.error} ${out.errorMessage}`);
        const report = await inspectCache(box.root, exp);
        violations.push(
          ...report.violations.map((x) => `after ${killed ? `kill ${i}` : `run ${version}`}: ${x}`),
        );
        violations.push(...(await box.outsideWrites()));
        if (killed) {
          hits++;
          i++;
        } else misses++;
      }
      if (hits < KILLS_PER_POINT)
        violations.push(`only ${hits} of ${KILLS_PER_POINT} kills landed at the point`);
      // The next plain sync: at once (no wait on a lock), and it leaves nothing behind.
      const last = vs.publish(++version);
      const t0 = performance.now();
      const out = await start().done;
      const recoveryMs = Math.round(performance.now() - t0);
      const waitedForLock = out.phases.includes('waiting-for-lock');
      if (out.code !== 0)
        violations.push(`the sync after the kills failed: ${out.error} ${out.errorMessage}`);
      if (waitedForLock) violations.push(`the sync after the kills waited ${recoveryMs} ms for a lock`);
      const report = await inspectCache(box.root, exp);
      violations.push(...report.violations.map((x) => `after the clean sync: ${x}`));
      if (report.manifest !== last.text)
        violations.push('after the clean sync: manifest.json is not the new version');
      if (report.tmpFiles.length > 0)
        violations.push(`after the clean sync: temp files left: ${report.tmpFiles.join(', ')}`);
      if (report.partials.length > 0)
        violations.push(`after the clean sync: partials left: ${report.partials.join(', ')}`);
      if (existsSync(lockPath(box.root))) violations.push('after the clean sync: the lock is still there');
      bytesServed += vs.s.bytesServed();
      results.push({
        point: point.name,
        kills: KILLS_PER_POINT,
        hits,
        misses,
        recoveryMs,
        waitedForLock,
        violations,
      });
      expect(violations).toEqual([]);
    }, 120_000);
  }
});
