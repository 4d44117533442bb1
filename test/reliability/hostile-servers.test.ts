// Hostile and broken servers: resets, stalls, drips, 503/429 storms, bad
// bytes, too many bytes, Range ignored, a changing ETag, redirect loops, an
// invalid and a 50 MB manifest. Each case, on both transports (got, and fetch
// as Electron's net.fetch is used), ends in success or its clear error code,
// never a hang, a crash or a write outside the cache. Full mode only: the
// fast subset in `npm test` keeps the malicious-manifest corpus.
import { afterAll, describe, expect, it } from 'vitest';
import { ensureVmCacheSynced } from '../../main/engine/index.js';
import { chunkedManifestServer } from './support/chunked-server.js';
import { isHung, settleWithin } from './support/deadline.js';
import { countOutcomes, recordFigures, stopwatch } from './support/figures.js';
import { HOSTILE_CASES } from './support/hostile-cases.js';
import { type CaseResult, runHostileCase, type Transport } from './support/hostile-run.js';
import { FULL, MiB } from './support/mode.js';
import { sandbox } from './support/sandbox.js';

const TRANSPORTS: Transport[] = ['got', 'fetch'];
const results: CaseResult[] = [];
const elapsed = stopwatch();

describe.runIf(FULL)('hostile and broken servers', () => {
  afterAll(async () => {
    const failed = results.filter((r) => r.violations.length > 0);
    const outcomes = countOutcomes(results);
    await recordFigures({
      scenario: 'hostile-servers',
      rounds: results.length,
      faultsInjected: results.reduce((n, r) => n + r.faultsHit, 0),
      bytesServed: results.reduce((n, r) => n + r.bytesServed, 0),
      failures: failed.length,
      durationMs: elapsed(),
      notes: `${HOSTILE_CASES.length + 1} cases x ${TRANSPORTS.length} transports; outcomes ${JSON.stringify(outcomes)}; hangs ${outcomes.hang ?? 0}; longest case ${Math.max(...results.map((r) => r.ms))} ms`,
      detail: results,
    });
  });

  for (const transport of TRANSPORTS) {
    it(`manifest of 50 MB streamed without Content-Length (${transport}): ERR_MANIFEST_INVALID, reading stops at 16 MiB`, async () => {
      const chunked = await chunkedManifestServer(50_000_000);
      const box = await sandbox();
      const settled = await settleWithin(
        (signal) =>
          ensureVmCacheSynced({
            root: box.root,
            manifestUrl: chunked.manifestUrl,
            rawHostArch: 'x64',
            signal,
            ...(transport === 'fetch'
              ? { fetchImpl: (url: string, init?: RequestInit) => fetch(url, init) }
              : {}),
          }),
        45_000,
      );
      const violations: string[] = [];
      const outcome = isHung(settled)
        ? 'hang'
        : settled.ok
          ? 'success'
          : String((settled.error as { code?: string }).code);
      if (outcome !== 'ERR_MANIFEST_INVALID')
        violations.push(`expected ERR_MANIFEST_INVALID, got ${outcome}`);
      // 16 MiB read, plus what socket buffers held when the client hung up.
      await chunked.finished();
      if (chunked.bytesSent() > 24 * MiB)
        violations.push(`${chunked.bytesSent()} bytes sent before the refusal`);
      violations.push(...(await box.outsideWrites()));
      await chunked.close();
      results.push({
        name: 'manifest of 50 MB, chunked',
        transport,
        expected: 'ERR_MANIFEST_INVALID',
        outcome,
        ms: settled.ms,
        faultsHit: 1,
        bytesServed: chunked.bytesSent(),
        violations,
      });
      expect(violations).toEqual([]);
    });
  }

  for (const c of HOSTILE_CASES) {
    for (const transport of TRANSPORTS) {
      it(`${c.name} (${transport}): ${c.expect}`, async () => {
        const result = await runHostileCase(c, transport, Math.random);
        results.push(result);
        expect(result.violations).toEqual([]);
      }, 90_000);
    }
  }
});
