// Stalls and cancellation: no download hangs forever, a cancel is prompt and
// keeps the partial, and the manifest is never written by a cancelled sync.
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureVmCacheSynced, getCachedManifestPath, type SyncProgress } from '../../main/engine/index.js';
import { keyOf, oneArtifactServer, tempRoot } from '../helpers.js';

describe('stall detection', () => {
  it('no bytes for stallTimeoutMs: progress says "stalled" first, then ERR_STALLED, partial kept', async () => {
    const s = await oneArtifactServer(500_000);
    const key = keyOf(s);
    s.setFault(key, { stallAtByte: 200_000 });
    const root = await tempRoot();
    const states: string[] = [];
    await expect(
      ensureVmCacheSynced({
        root,
        manifestUrl: s.manifestUrl,
        rawHostArch: 'x64',
        stallTimeoutMs: 900,
        onProgress: (p) => states.push(p.artifacts[0]?.state ?? '-'),
      }),
    ).rejects.toMatchObject({ code: 'ERR_STALLED' });
    const stalledAt = states.indexOf('stalled');
    expect(stalledAt).toBeGreaterThan(-1);
    expect(states.at(-1)).toBe('failed');
    expect((await stat(path.join(root, 'cache', `${key}.partial`))).size).toBe(200_000);
  });

  it('a stall is transient: with retries the sync resumes and succeeds', async () => {
    const s = await oneArtifactServer(500_000);
    const key = keyOf(s);
    s.setFault(key, { stallAtByte: 200_000, times: 1 });
    const result = await ensureVmCacheSynced({
      root: await tempRoot(),
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      stallTimeoutMs: 600,
      retries: 2,
      retryPolicy: { baseDelayMs: 10 },
    });
    expect(result.downloaded).toEqual([key]);
    expect(s.bytesServed(key)).toBe(500_000);
  });
});

describe('cancel', () => {
  it('rejects with ERR_ABORTED promptly, keeps the partial, never writes the manifest; the next sync resumes', async () => {
    const size = 2_000_000;
    const s = await oneArtifactServer(size);
    const key = keyOf(s);
    s.setFault(key, { dripBytesPerSec: 1_000_000, times: 1 });
    const root = await tempRoot();
    const controller = new AbortController();
    const phases: SyncProgress[] = [];
    const sync = ensureVmCacheSynced({
      root,
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      signal: controller.signal,
      retries: 5,
      onProgress: (p) => {
        phases.push(p);
        if (p.receivedBytes > 300_000 && !controller.signal.aborted) controller.abort();
      },
    });
    const outcome = sync.then(
      () => 'resolved',
      (e: { code: string }) => ({ code: e.code, at: Date.now() }),
    );
    const result = (await outcome) as { code: string; at: number };
    expect(result.code).toBe('ERR_ABORTED');
    const abortedAt = phases.find((p) => p.receivedBytes > 300_000)!.at;
    // Generous bound: the contract is 200 ms (measured in the reliability suite); this guards against a hang.
    expect(result.at - abortedAt).toBeLessThan(2000);
    expect(phases.at(-1)!.phase).toBe('cancelled');
    expect(existsSync(getCachedManifestPath(root))).toBe(false);
    const kept = (await stat(path.join(root, 'cache', `${key}.partial`))).size;
    expect(kept).toBeGreaterThan(0);

    const before = s.bytesServed(key);
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect(s.bytesServed(key) - before).toBe(size - kept);
  });

  it('an already-aborted signal rejects without touching the disk', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    const controller = new AbortController();
    controller.abort();
    await expect(
      ensureVmCacheSynced({
        root,
        manifestUrl: s.manifestUrl,
        rawHostArch: 'x64',
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(existsSync(path.join(root, 'cache'))).toBe(false);
  });
});
