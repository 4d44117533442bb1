// The corpus of malicious manifests (test/fixtures/bad-manifests.ts: traversal
// keys, absolute and Windows paths, NUL, __proto__, huge sizes, wrong types)
// served as an update over a complete cache. Each ends in its own error code,
// within a deadline, with no request for a tarball, nothing written beside the
// root (sentinels), and the previous cache still verifying. The same hostile
// entries under another arch must not fail this host's sync. Full mode also
// runs every document through the `vm-cache` CLI: exit 4, a JSON error line,
// no stack trace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureVmCacheSynced, verifyVmCache } from '../../main/engine/index.js';
import { MANIFEST_KEY } from '../../server/index.js';
import { BAD_MANIFESTS, type BadManifest } from '../fixtures/bad-manifests.js';
import { isHung, settleWithin } from './support/deadline.js';
import { countOutcomes, recordFigures, stopwatch } from './support/figures.js';
import { inspectCache } from './support/invariants.js';
import { cliAvailable, startSyncProcess } from './support/launch.js';
import { FULL } from './support/mode.js';
import { sandbox } from './support/sandbox.js';
import { type VersionedServer, versionedServer } from './support/versions.js';

const SIZE = 64 * 1024;
const DEADLINE_MS = 20_000;

interface CaseFigures {
  name: string;
  via: 'engine' | 'cli';
  expected: string;
  outcome: string;
  ms: number;
  violations: string[];
}
const results: CaseFigures[] = [];
const elapsed = stopwatch();
let bytesServed = 0;

/** A server whose version 1 is cached in a fresh sandboxed root, and version 2 is about to be broken. */
async function cachedRoot() {
  const vs = await versionedServer({ count: 2, sizeBytes: SIZE });
  const box = await sandbox();
  vs.publish(0);
  await ensureVmCacheSynced({ root: box.root, manifestUrl: vs.s.manifestUrl, rawHostArch: 'x64' });
  return { vs, box, firstRequest: vs.s.requests.length };
}

/** What must hold after a refused manifest: no tarball asked for, nothing outside, version 1 intact. */
async function afterRefusal(
  vs: VersionedServer,
  box: { root: string; outsideWrites(): Promise<string[]> },
  firstRequest: number,
) {
  const violations: string[] = [];
  const asked = vs.s.requests.slice(firstRequest).filter((r) => r.path !== MANIFEST_KEY);
  if (asked.length > 0) violations.push(`requested ${asked.map((r) => r.path).join(', ')}`);
  violations.push(...(await box.outsideWrites()));
  const report = await inspectCache(box.root, vs.expectation('x64'));
  violations.push(...report.violations);
  if (report.manifest !== vs.versions[0]!.text) violations.push('the cached manifest changed');
  if (!(await verifyVmCache({ root: box.root, rawHostArch: 'x64' })).ok)
    violations.push('the previous cache no longer verifies');
  return violations;
}

describe('malicious manifests', () => {
  afterAll(async () => {
    const failed = results.filter((r) => r.violations.length > 0);
    const outcomes = countOutcomes(results);
    await recordFigures({
      scenario: 'malicious-manifests',
      rounds: results.length,
      faultsInjected: results.length,
      bytesServed,
      failures: failed.length,
      durationMs: elapsed(),
      notes: `${BAD_MANIFESTS.length} corpus documents via the engine${FULL ? ' and the CLI' : ''}, plus ${OTHER_ARCH.length} hostile entries under another arch; outcomes ${JSON.stringify(outcomes)}; slowest ${Math.max(...results.map((r) => r.ms))} ms`,
      detail: results,
    });
  });

  it('the corpus holds at least 30 documents', () => {
    expect(BAD_MANIFESTS.length).toBeGreaterThanOrEqual(30);
  });

  for (const bad of BAD_MANIFESTS) {
    it(`${bad.name}: ${bad.code} (engine)`, async () => {
      const { vs, box, firstRequest } = await cachedRoot();
      vs.s.setManifest(bad.make(vs.versions[1]!.doc));
      const settled = await settleWithin(
        (signal) =>
          ensureVmCacheSynced({ root: box.root, manifestUrl: vs.s.manifestUrl, rawHostArch: 'x64', signal }),
        DEADLINE_MS,
      );
      const violations: string[] = [];
      let outcome: string;
      if (isHung(settled)) outcome = 'hang';
      else if (settled.ok) outcome = 'success';
      else {
        const err = settled.error as { code?: string; message?: string };
        outcome = err.code ?? `crash: ${String(settled.error)}`;
        if (!err.message?.includes(bad.says))
          violations.push(`message does not say "${bad.says}": ${err.message}`);
      }
      if (outcome !== bad.code) violations.push(`expected ${bad.code}, got ${outcome}`);
      violations.push(...(await afterRefusal(vs, box, firstRequest)));
      // JSON.parse makes "__proto__" an own key; nothing may have leaked into Object.prototype.
      if (Object.keys(Object.prototype).length > 0) violations.push('Object.prototype was polluted');
      bytesServed += vs.s.bytesServed();
      results.push({
        name: bad.name,
        via: 'engine',
        expected: bad.code,
        outcome,
        ms: settled.ms,
        violations,
      });
      expect(violations).toEqual([]);
    });
  }

  for (const hostile of OTHER_ARCH) {
    it(`another arch's entry ${hostile.name}: this host's sync succeeds, nothing outside`, async () => {
      const { vs, box } = await cachedRoot();
      const doc = structuredClone(vs.versions[1]!.doc) as {
        agents: { openclaw: { tarballs: Record<string, unknown> } };
      };
      doc.agents.openclaw.tarballs.arm64 = hostile.entry;
      vs.s.setManifest(doc);
      const settled = await settleWithin(
        (signal) =>
          ensureVmCacheSynced({ root: box.root, manifestUrl: vs.s.manifestUrl, rawHostArch: 'x64', signal }),
        DEADLINE_MS,
      );
      const violations: string[] = [];
      const outcome = isHung(settled)
        ? 'hang'
        : settled.ok
          ? 'success'
          : String((settled.error as { code?: string }).code);
      if (outcome !== 'success') violations.push(`expected success, got ${outcome}`);
      violations.push(...(await box.outsideWrites()));
      const report = await inspectCache(box.root, {
        ...vs.expectation('x64'),
        manifests: new Set([`${JSON.stringify(doc, null, 2)}\n`]),
      });
      violations.push(...report.violations);
      bytesServed += vs.s.bytesServed();
      results.push({
        name: `arm64 ${hostile.name}`,
        via: 'engine',
        expected: 'success',
        outcome,
        ms: settled.ms,
        violations,
      });
      expect(violations).toEqual([]);
    });
  }

  describe.runIf(FULL)('through the vm-cache CLI', () => {
    let useCli = false;
    beforeAll(() => {
      useCli = cliAvailable();
    });

    // Two at a time: each run is a process start-up, most of a second.
    for (let i = 0; i < BAD_MANIFESTS.length; i += 2) {
      const pair = BAD_MANIFESTS.slice(i, i + 2);
      it(`${pair.map((b) => b.name).join(' / ')}: exit 4 with the code (CLI)`, async () => {
        if (!useCli) return;
        const outcomes = await Promise.all(pair.map(cliCase));
        expect(outcomes.flatMap((o) => o.violations)).toEqual([]);
      }, 60_000);
    }
  });
});

async function cliCase(bad: BadManifest): Promise<CaseFigures> {
  const { vs, box, firstRequest } = await cachedRoot();
  vs.s.setManifest(bad.make(vs.versions[1]!.doc));
  const run = startSyncProcess('cli', { root: box.root, manifestUrl: vs.s.manifestUrl, retries: 0 });
  const guard = setTimeout(() => run.kill('SIGKILL'), DEADLINE_MS);
  const out = await run.done;
  clearTimeout(guard);
  const violations: string[] = [];
  const outcome = out.signal === 'SIGKILL' ? 'hang' : (out.error ?? `exit ${out.code}`);
  if (outcome !== bad.code) violations.push(`expected ${bad.code}, got ${outcome}`);
  // ERR_MANIFEST_INVALID and ERR_UNSAFE_KEY are integrity failures: exit 4.
  if (out.code !== 4) violations.push(`exit code ${out.code}, expected 4`);
  if (/^\s+at /m.test(out.stderr)) violations.push(`a stack trace on stderr: ${out.stderr.slice(0, 300)}`);
  violations.push(...(await afterRefusal(vs, box, firstRequest)));
  bytesServed += vs.s.bytesServed();
  const result: CaseFigures = {
    name: bad.name,
    via: 'cli',
    expected: bad.code,
    outcome,
    ms: out.ms,
    violations,
  };
  results.push(result);
  return result;
}

/** Hostile entries for an arch this host does not download: placeholders are allowed there, and must stay inert. */
const OTHER_ARCH: Array<{ name: string; entry: unknown }> = [
  { name: 'with a traversal key', entry: { key: '../../etc/passwd', sha256: 'unused', sizeBytes: 1 } },
  { name: 'with an absolute key', entry: { key: '/etc/cron.d/evil', sha256: 'unused', sizeBytes: 1 } },
  {
    name: 'with a NUL in the key',
    entry: { key: 'vm/images/a\u0000.tar.gz', sha256: 'unused', sizeBytes: 1 },
  },
  { name: 'with a huge size', entry: { key: 'vm/images/huge.tar.gz', sha256: 'unused', sizeBytes: 1e300 } },
  { name: 'naming the manifest', entry: { key: 'vm/manifest.json', sha256: '0'.repeat(64), sizeBytes: 5 } },
];
