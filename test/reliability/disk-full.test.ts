// Disk full, on a real 8 MiB tmpfs: (1) the clear error before any write when
// the free space is short; (2) ENOSPC in the middle of a download when another
// process fills the disk; (3) a disk another process filled before the sync
// started. In each the previous complete cache still verifies and, once space
// is freed, the next sync succeeds at once.
import { existsSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureVmCacheSynced, getCachedManifestPath, verifyVmCache } from '../../main/engine/index.js';
import { lockPath } from '../../main/engine/local-state.js';
import { generatedSha256, MANIFEST_KEY, serializeManifest } from '../../server/index.js';
import { listFiles, runTsChild, server, smallDisk } from '../helpers.js';
import { recordFigures, stopwatch } from './support/figures.js';
import { inspectCache, type KnownTarball } from './support/invariants.js';
import { cliAvailable, startSyncProcess } from './support/launch.js';
import { byMode, FULL, MiB } from './support/mode.js';

const FILL_DISK = fileURLToPath(new URL('./fixtures/fill-disk.ts', import.meta.url));
const ARTIFACTS = [
  { agent: 'small', version: '1', arch: 'x64', sizeBytes: 1 * MiB },
  { agent: 'mid', version: '1', arch: 'x64', sizeBytes: 5 * MiB },
  { agent: 'big', version: '1', arch: 'x64', sizeBytes: 16 * MiB },
] as const;
const key = (agent: string) => `vm/images/${agent}-1-x64.tar.gz`;
const MID_WRITE_ROUNDS = byMode(3, 1);

interface CaseFigures {
  name: string;
  outcome: string;
  violations: string[];
  [figure: string]: unknown;
}
const results: CaseFigures[] = [];
const elapsed = stopwatch();
let bytesServed = 0;
let skipped = false;

/** An 8 MiB disk holding a complete cache of `small`; publish() moves the server to other sets. */
async function diskWithCache() {
  const s = await server({ artifacts: [...ARTIFACTS] });
  const disk = await smallDisk(8);
  if (!disk) {
    skipped = true;
    return undefined;
  }
  const full = structuredClone(s.manifest) as { agents: Record<string, unknown> };
  const docOf = (names: string[]) => ({
    ...full,
    agents: Object.fromEntries(Object.entries(full.agents).filter(([n]) => names.includes(n))),
  });
  const known = new Map<string, KnownTarball>();
  for (const a of ARTIFACTS)
    known.set(key(a.agent), { sha256: await generatedSha256(a), sizeBytes: a.sizeBytes });
  const texts = new Set<string>();
  const publish = (names: string[]) => {
    const doc = docOf(names);
    texts.add(serializeManifest(doc).toString('utf8'));
    s.setManifest(doc);
  };
  publish(['small']);
  const root = path.join(disk, 'root');
  const base = { root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' };
  await ensureVmCacheSynced(base);
  const cachedText = await readFile(getCachedManifestPath(root), 'utf8');
  return { s, disk, root, base, publish, cachedText, expectation: { known, manifests: texts, arch: 'x64' } };
}
type Ctx = NonNullable<Awaited<ReturnType<typeof diskWithCache>>>;

/**
 * After a disk-full failure: the old cache is there, hashes right (the suite's
 * own sha256), nothing is left behind; and verifyVmCache agrees.
 */
async function previousCacheIntact(ctx: Ctx): Promise<string[]> {
  const violations = await previousCacheOnDisk(ctx);
  if (existsSync(lockPath(ctx.root))) violations.push('the lock was left behind');
  const verify = await verifyVmCache({ root: ctx.root, rawHostArch: 'x64' }).catch((e: Error) => e);
  if (verify instanceof Error || !verify.ok)
    violations.push(
      `the previous cache does not verify: ${String(verify instanceof Error ? verify.message : JSON.stringify(verify))}`,
    );
  return violations;
}

/** The files alone, without the engine (whose verify takes the lock). */
async function previousCacheOnDisk(ctx: Ctx): Promise<string[]> {
  const report = await inspectCache(ctx.root, ctx.expectation);
  const violations = [...report.violations];
  if (report.manifest !== ctx.cachedText) violations.push('the cached manifest changed');
  if (!report.tarballs.includes(key('small'))) violations.push('the cached tarball is gone');
  if (report.partials.length > 0)
    violations.push(`partials left on a full disk: ${report.partials.join(', ')}`);
  return violations;
}

/** Once space is back, one plain sync must succeed at once (no waiting on a leftover lock). */
async function recovers(ctx: Ctx, names: string[]): Promise<{ violations: string[]; ms: number }> {
  const violations: string[] = [];
  const phases: string[] = [];
  const t0 = performance.now();
  const result = await ensureVmCacheSynced({
    ...ctx.base,
    // A leftover lock would make this wait 15 s for staleness; say so in 5.
    lockTimeoutMs: 5_000,
    onProgress: (p) => {
      if (phases.at(-1) !== p.phase) phases.push(p.phase);
    },
  }).catch((e: Error) => e);
  const ms = Math.round(performance.now() - t0);
  if (result instanceof Error) violations.push(`the sync after freeing space failed: ${result.message}`);
  if (phases.includes('waiting-for-lock'))
    violations.push(`the sync after freeing space waited for a lock (${phases.join(' ')})`);
  const verify = await verifyVmCache({ root: ctx.root, rawHostArch: 'x64' });
  if (!verify.ok || verify.entries.length !== names.length)
    violations.push(`after recovery: ${JSON.stringify(verify)}`);
  return { violations, ms };
}

describe('disk full', () => {
  afterAll(async () => {
    await recordFigures({
      scenario: 'disk-full',
      rounds: results.length,
      faultsInjected: results.length,
      bytesServed,
      failures: results.filter((r) => r.violations.length > 0).length,
      durationMs: elapsed(),
      notes: skipped
        ? 'SKIPPED: no tmpfs (run as root)'
        : results.map((r) => `${r.name}: ${r.outcome}`).join('; '),
      detail: results,
    });
  });

  it.runIf(FULL)(
    'short of space: ERR_DISK_FULL (CLI exit 5) before any request or write, the old cache intact',
    async () => {
      const ctx = await diskWithCache();
      if (!ctx) return;
      const before = await snapshot(ctx.root);
      const firstRequest = ctx.s.requests.length;
      ctx.publish(['small', 'big']);
      const useCli = cliAvailable();
      const out = await startSyncProcess(useCli ? 'cli' : 'sync-child', {
        root: ctx.root,
        manifestUrl: ctx.s.manifestUrl,
      }).done;
      const violations: string[] = [];
      if (out.error !== 'ERR_DISK_FULL')
        violations.push(`expected ERR_DISK_FULL, got ${out.error ?? `exit ${out.code}`}`);
      if (useCli && out.code !== 5) violations.push(`exit code ${out.code}, expected 5`);
      // The message gives both figures: 16 MiB missing + the 1 MiB margin, and what is free.
      if (!/17\.8 MB needed, [\d.]+ [kM]B free/.test(out.errorMessage ?? ''))
        violations.push(`message: ${out.errorMessage}`);
      const asked = ctx.s.requests.slice(firstRequest).filter((r) => r.path !== MANIFEST_KEY);
      if (asked.length > 0) violations.push(`requested ${asked.map((r) => r.path).join(', ')}`);
      const after = await snapshot(ctx.root);
      if (JSON.stringify(after) !== JSON.stringify(before))
        violations.push(`files changed: ${JSON.stringify({ before, after })}`);
      violations.push(...(await previousCacheIntact(ctx)));
      bytesServed += ctx.s.bytesServed();
      results.push({
        name: 'short before any write',
        outcome: out.error ?? `exit ${out.code}`,
        violations,
        via: out.launcher,
      });
      expect(violations).toEqual([]);
    },
  );

  for (let round = 0; round < MID_WRITE_ROUNDS; round++) {
    it(`ENOSPC mid-write, another process fills the disk (round ${round + 1}): ERR_DISK_FULL, partial removed, old cache intact`, async () => {
      const ctx = await diskWithCache();
      if (!ctx) return;
      ctx.publish(['small', 'mid']);
      // Slow enough that the filler process (a second to start) fills the disk mid-download.
      ctx.s.setFault(key('mid'), { dripBytesPerSec: 1 * MiB });
      const fillAt = Math.round((0.5 + Math.random() * 2) * MiB);
      let filler: ReturnType<typeof runTsChild> | undefined;
      let receivedAtFill = 0;
      const t0 = performance.now();
      let filledAtMs = 0;
      const err = await ensureVmCacheSynced({
        ...ctx.base,
        onProgress: (p) => {
          const mid = p.artifacts.find((a) => a.key === key('mid'));
          if (!filler && mid && mid.receivedBytes >= fillAt) {
            receivedAtFill = mid.receivedBytes;
            filledAtMs = Math.round(performance.now() - t0);
            filler = runTsChild(FILL_DISK, [path.join(ctx.disk, 'filler')]);
          }
        },
      }).catch((e: Error & { code?: string }) => e);
      const failedAtMs = Math.round(performance.now() - t0);
      const filled = filler ? await filler.done : undefined;
      const violations: string[] = [];
      const outcome = err instanceof Error ? (err.code ?? err.message) : 'success';
      if (!filler) violations.push('the download ended before the disk was filled');
      if (outcome !== 'ERR_DISK_FULL') violations.push(`expected ERR_DISK_FULL, got ${outcome}`);
      if (err instanceof Error && !err.message.includes('disk full'))
        violations.push(`message: ${err.message}`);
      const partial = path.join(ctx.root, 'cache', `${key('mid')}.partial`);
      if (existsSync(partial) || existsSync(`${partial}.json`))
        violations.push('the partial was kept on a full disk');
      violations.push(...(await previousCacheIntact(ctx)));
      await rm(path.join(ctx.disk, 'filler'), { force: true });
      ctx.s.setFault(key('mid'), undefined);
      const recovery = await recovers(ctx, ['small', 'mid']);
      violations.push(...recovery.violations);
      bytesServed += ctx.s.bytesServed();
      results.push({
        name: `ENOSPC mid-write ${round + 1}`,
        outcome,
        violations,
        fillAtBytes: receivedAtFill,
        fillerBytes: filled?.lines[0]?.written,
        msFromFillToError: failedAtMs - filledAtMs,
        recoveryMs: recovery.ms,
      });
      expect(violations).toEqual([]);
    }, 60_000);
  }

  it('a disk another process filled before the sync: ERR_DISK_FULL, no lock left behind, the next sync goes at once', async () => {
    const ctx = await diskWithCache();
    if (!ctx) return;
    const filled = await runTsChild(FILL_DISK, [path.join(ctx.disk, 'filler')]).done;
    const freeAfterFill = (await stat(path.join(ctx.disk, 'filler'))).size;
    ctx.publish(['small', 'mid']);
    const err = await ensureVmCacheSynced(ctx.base).catch((e: Error & { code?: string }) => e);
    const violations: string[] = [];
    const outcome = err instanceof Error ? (err.code ?? err.message) : 'success';
    if (outcome !== 'ERR_DISK_FULL') violations.push(`expected ERR_DISK_FULL, got ${outcome}`);
    // Nothing of this failed sync may outlive it: above all not a lock that blocks the next one.
    const lockLeft = existsSync(lockPath(ctx.root)) ? (await stat(lockPath(ctx.root))).size : undefined;
    if (lockLeft !== undefined) violations.push(`the failed sync left sync.lock behind (${lockLeft} bytes)`);
    violations.push(...(await previousCacheOnDisk(ctx)));
    await rm(path.join(ctx.disk, 'filler'), { force: true });
    // The user frees space and retries: that sync must start at once (it ends with a verifyVmCache).
    const recovery = await recovers(ctx, ['small', 'mid']);
    violations.push(...recovery.violations);
    bytesServed += ctx.s.bytesServed();
    results.push({
      name: 'full before the sync',
      outcome,
      violations,
      fillerBytes: filled.lines[0]?.written ?? freeAfterFill,
      recoveryMs: recovery.ms,
    });
    expect(violations).toEqual([]);
  }, 60_000);
});

/** Every file under root with its size and mtime: "nothing was written". */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const rel of await listFiles(root)) {
    const st = await stat(path.join(root, rel));
    out[rel] = `${st.size}@${st.mtimeMs}`;
  }
  return out;
}
