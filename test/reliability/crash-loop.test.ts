// Crash loop: a sync of a 64 MiB artifact in another process, SIGKILLed at a
// random moment, over and over. After every kill the cache must be coherent
// (support/invariants.ts); in the end a sync succeeds and, thanks to resume,
// the server sent each artifact less than 1.5 times.
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyVmCache } from '../../main/engine/index.js';
import { mib, recordFigures, stopwatch } from './support/figures.js';
import { inspectCache } from './support/invariants.js';
import {
  cliAvailable,
  type Launcher,
  type SyncOutcome,
  type SyncRun,
  startSyncProcess,
} from './support/launch.js';
import { byMode, MiB } from './support/mode.js';
import { sandbox } from './support/sandbox.js';
import { versionedServer } from './support/versions.js';

const ROUNDS = byMode(25, 3);
const SIZE = byMode(64 * MiB, 16 * MiB);
// Throttled so one sync takes a couple of seconds and a random kill can land in
// any phase; fast mode keeps the same shape on a smaller artifact.
const THROTTLE = byMode(48_000_000, 12_000_000);
// A sync that completes before its kill moves the loop on to a new version;
// the pool covers a completion for every kill and then some.
const VERSIONS = ROUNDS + 2;

type KillMode = 'anytime' | 'at-the-end';

describe('crash loop', () => {
  it(
    `${ROUNDS} syncs SIGKILLed at random moments: coherent cache after every kill, then success with < 1.5x bytes`,
    async () => {
      const elapsed = stopwatch();
      const t0 = performance.now();
      const useCli = cliAvailable();
      // How long a sync process takes to reach the engine (tsx compiles on the
      // fly): first guessed from one `sync --help`, then learnt from the rounds.
      const startups = [Math.round(performance.now() - t0)];
      const vs = await versionedServer({ count: VERSIONS, sizeBytes: SIZE, throttleBytesPerSec: THROTTLE });
      const box = await sandbox();
      const root = box.root;
      const exp = vs.expectation('x64');
      const violations: string[] = [];
      const runs: Array<Record<string, unknown>> = [];
      const killedAt: Record<string, number> = {};
      const launchers: Record<Launcher, number> = { cli: 0, 'sync-child': 0 };
      let current = 0;
      let completions = 0;
      vs.publish(current);

      // A round is a kill; a sync that completes first does not count as one.
      let round = 0;
      for (let attempt = 0; round < ROUNDS && attempt < ROUNDS * 4; attempt++) {
        const key = vs.versions[current]!.keys.x64!;
        const partial = path.join(root, 'cache', `${key}.partial`);
        const kept = (await stat(partial).catch(() => undefined))?.size ?? 0;
        // Mostly the CLI, as users run it; every fifth run the engine's own child.
        const launcher: Launcher = useCli && attempt % 5 !== 4 ? 'cli' : 'sync-child';
        launchers[launcher]++;
        // Half the kills anywhere in the sync's expected life (start-up, manifest
        // fetch, download); half aimed at its end (fsync, verify, rename,
        // manifest write, prune), windows too short for chance alone to find.
        // Only the CLI reports artifact states, which the aimed kills wait for.
        const mode: KillMode = launcher === 'cli' && Math.random() < 0.5 ? 'at-the-end' : 'anytime';
        const expectedMs = median(startups) + ((SIZE - kept) / THROTTLE) * 1000 + 200;
        const run = startSyncProcess(launcher, { root, manifestUrl: vs.s.manifestUrl });
        const delayMs = await scheduleKill(run, mode, expectedMs);
        const out = await run.done;

        const killed = out.signal === 'SIGKILL';
        if (out.firstLineMs !== undefined) startups.push(out.firstLineMs);
        const step = killed ? out.steps.at(-1) || 'starting' : 'completed';
        if (killed) killedAt[step] = (killedAt[step] ?? 0) + 1;
        else completions++;
        const where = killed ? `round ${round} (killed at ${step})` : `run ${attempt} (completed)`;
        if (!killed && out.code !== 0) violations.push(`${where}: the sync failed: ${explain(out)}`);

        const report = await inspectCache(root, exp);
        violations.push(...report.violations.map((v) => `${where}: ${v}`));
        violations.push(...(await box.outsideWrites()).map((v) => `${where}: ${v}`));
        // Old versions go at the next successful sync: never more than a few on disk.
        const versionsOnDisk = new Set(
          [...report.tarballs, ...report.partials].map((rel) =>
            vs.versions.findIndex((v) => rel.startsWith(v.keys.x64!)),
          ),
        );
        if (versionsOnDisk.size > 3)
          violations.push(`${where}: files of ${versionsOnDisk.size} versions pile up`);
        runs.push({
          round: killed ? round : null,
          launcher,
          mode,
          version: vs.versions[current]!.version,
          delayMs,
          step,
          keptBefore: kept,
          keptAfter:
            (await stat(partial).catch(() => undefined))?.size ??
            (existsSync(path.join(root, 'cache', key)) ? SIZE : 0),
          bytesServed: vs.s.bytesServed(key),
          ms: out.ms,
        });
        // Nothing left to do for this version: the next run gets a new one.
        const done = report.manifest === vs.versions[current]!.text && report.tarballs.includes(key);
        if (done && current + 1 < vs.versions.length) vs.publish(++current);
        if (killed) round++;
      }

      const finalRun = startSyncProcess(useCli ? 'cli' : 'sync-child', {
        root,
        manifestUrl: vs.s.manifestUrl,
      });
      const guard = setTimeout(() => finalRun.kill('SIGKILL'), 120_000);
      const final = await finalRun.done;
      clearTimeout(guard);
      if (final.code !== 0) violations.push(`final sync failed: ${explain(final)}`);
      const report = await inspectCache(root, exp);
      violations.push(...report.violations.map((v) => `after the final sync: ${v}`));
      violations.push(...(await box.outsideWrites()));
      const finalKey = vs.versions[current]!.keys.x64!;
      if (report.manifest !== vs.versions[current]!.text)
        violations.push('final sync: manifest.json is not the published one');
      if (report.partials.length > 0)
        violations.push(`final sync left partials: ${report.partials.join(', ')}`);
      const verify = await verifyVmCache({ root, rawHostArch: 'x64' });
      if (!verify.ok || verify.entries.map((e) => e.key).join() !== finalKey)
        violations.push(`verifyVmCache after the final sync: ${JSON.stringify(verify)}`);

      const served = vs.versions.slice(0, current + 1).map((v) => ({
        version: v.version,
        bytesServed: vs.s.bytesServed(v.keys.x64!),
        ratio: Number((vs.s.bytesServed(v.keys.x64!) / SIZE).toFixed(3)),
      }));
      for (const v of served) {
        if (v.ratio >= 1.5)
          violations.push(`${v.version}: ${v.bytesServed} bytes served, ${v.ratio}x the artifact`);
      }
      if (round < ROUNDS) violations.push(`only ${round} of ${ROUNDS} syncs were killed`);
      const worst = Math.max(...served.map((v) => v.ratio));
      await recordFigures({
        scenario: 'crash-loop',
        rounds: round,
        faultsInjected: round,
        bytesServed: vs.s.bytesServed(),
        failures: violations.length,
        durationMs: elapsed(),
        notes: `${mib(SIZE)} artifact, ${served.length} versions, ${completions} runs completed before their kill; kills by step ${JSON.stringify(killedAt)}; worst bytes served per artifact ${worst}x`,
        detail: {
          size: SIZE,
          throttle: THROTTLE,
          startupMs: median(startups),
          killedAt,
          completions,
          launchers,
          served,
          runs,
          violations,
        },
      });
      expect(violations).toEqual([]);
    },
    byMode(540_000, 120_000),
  );
});

/** Kills `run` at a random moment chosen by `mode`; returns the delay used (ms from spawn). */
async function scheduleKill(run: SyncRun, mode: KillMode, expectedMs: number): Promise<number> {
  const t0 = performance.now();
  if (mode === 'anytime') {
    const delay = Math.round(Math.random() * expectedMs);
    const timer = setTimeout(() => run.kill('SIGKILL'), delay);
    void run.done.then(() => clearTimeout(timer));
    return delay;
  }
  // The download is over once the artifact is being verified: kill within the
  // next 150 ms (fsync, rename, manifest write and prune of 64 MiB take about that).
  const ended = await run
    .waitForStep((s) => /verifying|verified|finalizing|done/.test(s), expectedMs * 3 + 10_000)
    .then(
      () => true,
      () => false,
    );
  if (ended) {
    const jitter = Math.random() * 150;
    const timer = setTimeout(() => run.kill('SIGKILL'), jitter);
    void run.done.then(() => clearTimeout(timer));
  } else {
    // Exited on its own or never got there: make sure it is gone.
    run.kill('SIGKILL');
  }
  return Math.round(performance.now() - t0);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function explain(out: SyncOutcome): string {
  return `${out.launcher} exit ${out.code} ${out.error ?? ''} ${out.errorMessage ?? ''} ${out.stderr.slice(-500)}`.trim();
}
