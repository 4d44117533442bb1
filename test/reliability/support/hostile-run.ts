// Runs one hostile case: a complete cache of version 1 exists, the server
// publishes version 2 and misbehaves as the case says, and the sync of version
// 2 must end as expected within its deadline. Then, whatever happened: the
// cache is coherent, nothing was written outside it, a failed update left
// version 1 usable, and once the server behaves the next sync succeeds.
import { ensureVmCacheSynced, type VmCacheOptions, verifyVmCache } from '../../../main/engine/index.js';
import { MANIFEST_KEY } from '../../../server/index.js';
import { isHung, settleWithin } from './deadline.js';
import type { CaseContext, HostileCase, Observed } from './hostile-cases.js';
import { inspectCache } from './invariants.js';
import { MiB } from './mode.js';
import { sandbox } from './sandbox.js';
import { versionedServer } from './versions.js';

export type Transport = 'got' | 'fetch';

export interface CaseResult {
  name: string;
  transport: Transport;
  expected: string;
  /** 'success', an error code, 'hang', or 'crash: ...' for a non-engine error. */
  outcome: string;
  ms: number;
  faultsHit: number;
  bytesServed: number;
  violations: string[];
}

export async function runHostileCase(
  c: HostileCase,
  transport: Transport,
  random: () => number,
): Promise<CaseResult> {
  const size = c.size ?? MiB;
  const vs = await versionedServer({ count: 2, sizeBytes: size });
  const box = await sandbox();
  const base: VmCacheOptions = { root: box.root, manifestUrl: vs.s.manifestUrl, rawHostArch: 'x64' };
  // net.fetch in the Electron app goes through fetchTransport: test it as well as got.
  if (transport === 'fetch') base.fetchImpl = (url, init) => fetch(url, init);
  const v0 = vs.publish(0);
  await ensureVmCacheSynced(base);
  const v1 = vs.publish(1);
  const ctx: CaseContext = {
    key: v1.keys.x64!,
    manifestKey: MANIFEST_KEY,
    size,
    random,
    content: () => vs.s.contentOf(v1.keys.x64!),
  };

  const faults = c.faults(ctx);
  for (const f of faults) vs.s.setFault(f.path, f.fault);
  const firstRequest = vs.s.requests.length;
  const bytesBefore = {
    tarball: vs.s.bytesServed(ctx.key),
    manifest: vs.s.bytesServed(MANIFEST_KEY),
    all: vs.s.bytesServed(),
  };
  const followUp = c.afterFirst?.(ctx);
  // The server keeps one fault per path: the follow-up goes in once the first request has taken the first.
  const poll = followUp
    ? setInterval(() => {
        if (vs.s.requests.slice(firstRequest).some((r) => r.path === followUp.path)) {
          vs.s.setFault(followUp.path, followUp.fault);
          clearInterval(poll);
        }
      }, 1)
    : undefined;

  let maxReceived = 0;
  const settled = await settleWithin(
    (signal) =>
      ensureVmCacheSynced({
        ...base,
        ...c.options,
        signal,
        onProgress: (p) => {
          for (const a of p.artifacts) maxReceived = Math.max(maxReceived, a.receivedBytes);
        },
      }),
    // Above the engine's own 30 s default limits: a case that ends by one of those is slow, not hung.
    c.deadlineMs ?? 45_000,
  );
  clearInterval(poll);
  for (const f of faults) vs.s.setFault(f.path, undefined);
  if (followUp) vs.s.setFault(followUp.path, undefined);

  const violations: string[] = [];
  let outcome: string;
  let message: string | undefined;
  if (isHung(settled)) {
    outcome = 'hang';
  } else if (settled.ok) {
    outcome = 'success';
    if (!settled.value.downloaded.includes(ctx.key))
      violations.push(`success without downloading ${ctx.key}`);
  } else {
    const err = settled.error as { code?: unknown; message?: unknown };
    message = typeof err.message === 'string' ? err.message : undefined;
    outcome = typeof err.code === 'string' ? err.code : `crash: ${String(settled.error)}`;
    // A clear error: a sentence a person can act on, not a stack or "undefined".
    if (!message || message.length < 20 || /undefined|\[object /.test(message))
      violations.push(`unclear message: ${message}`);
  }
  if (outcome !== c.expect)
    violations.push(`expected ${c.expect}, got ${outcome}${message ? ` (${message})` : ''}`);

  const requests = vs.s.requests.slice(firstRequest);
  const seen: Observed = {
    ms: settled.ms,
    tarballRequests: requests
      .filter((r) => r.path === ctx.key)
      .map((r) => ({ status: r.status, bytesSent: r.bytesSent, ...(r.range ? { range: r.range } : {}) })),
    manifestRequests: requests.filter((r) => r.path === MANIFEST_KEY).length,
    tarballBytes: vs.s.bytesServed(ctx.key) - bytesBefore.tarball,
    manifestBytes: vs.s.bytesServed(MANIFEST_KEY) - bytesBefore.manifest,
    maxReceived,
    message,
  };
  if (outcome !== 'hang') violations.push(...(c.check?.(ctx, seen) ?? []));
  const faultsHit = faults.reduce(
    (n, f) => {
      const hits = requests.filter((r) => r.path === f.path).length;
      return n + Math.min(hits, f.fault.times ?? hits);
    },
    followUp ? 1 : 0,
  );

  // Whatever the outcome, the cache is coherent; a failed update kept version 1.
  const exp = vs.expectation('x64');
  const after = await inspectCache(box.root, exp);
  violations.push(...after.violations);
  const wanted = outcome === 'success' ? v1 : v0;
  if (after.manifest !== wanted.text)
    violations.push(`manifest.json is not version ${wanted.version} after ${outcome}`);
  if (outcome !== 'success' && !(await verifyVmCache({ root: box.root, rawHostArch: 'x64' })).ok)
    violations.push('the previous cache no longer verifies');
  violations.push(...(await box.outsideWrites()));

  // Once the server behaves, the very next sync succeeds: nothing is wedged.
  if (outcome !== 'success') {
    const retry = await settleWithin((signal) => ensureVmCacheSynced({ ...base, signal }), 30_000);
    if (isHung(retry) || !retry.ok)
      violations.push(`the sync after the fault was cleared failed: ${JSON.stringify(retry)}`);
    const healed = await inspectCache(box.root, exp);
    violations.push(...healed.violations.map((v) => `after recovery: ${v}`));
    if (healed.manifest !== v1.text) violations.push('after recovery: manifest.json is not the new version');
  }
  return {
    name: c.name,
    transport,
    expected: c.expect,
    outcome,
    ms: settled.ms,
    faultsHit,
    bytesServed: vs.s.bytesServed() - bytesBefore.all,
    violations,
  };
}
