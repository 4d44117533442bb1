// Progress events: shape, throttling, state changes, the first event, the
// final one, and late subscribers following a sync already in flight.
import { describe, expect, it } from 'vitest';
import { SyncProgressSchema } from '../../contract/progress.js';
import {
  ensureVmCacheSynced,
  getSyncProgress,
  type SyncProgress,
  watchSyncProgress,
} from '../../main/engine/index.js';
import { keyOf, server, tempRoot } from '../helpers.js';

const signature = (p: SyncProgress) => `${p.phase}|${p.attempt}|${p.artifacts.map((a) => a.state).join(',')}`;

describe('progress', () => {
  it('valid events, throttled to one per 100 ms between state changes, ending with "done"', async () => {
    const s = await server({
      artifacts: [
        { agent: 'a', version: '1', arch: 'x64', sizeBytes: 600_000 },
        { agent: 'b', version: '2', arch: 'x64', sizeBytes: 400_000 },
      ],
    });
    s.setFault(keyOf(s, 'a'), { dripBytesPerSec: 600_000 });
    s.setFault(keyOf(s, 'b'), { dripBytesPerSec: 400_000 });
    const events: SyncProgress[] = [];
    const result = await ensureVmCacheSynced({
      root: await tempRoot(),
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      onProgress: (p) => events.push(p),
    });
    expect(result.downloaded).toHaveLength(2);
    for (const e of events) SyncProgressSchema.parse(e);
    expect(events[0]!.phase).toBe('checking');
    const last = events.at(-1)!;
    expect(last).toMatchObject({ phase: 'done', receivedBytes: 1_000_000, totalBytes: 1_000_000 });
    expect(last.artifacts.map((a) => [a.agent, a.version, a.arch, a.state])).toEqual([
      ['a', '1', 'x64', 'verified'],
      ['b', '2', 'x64', 'verified'],
    ]);
    // Between two events with no state change in between, at least ~100 ms passed.
    const byteOnly = events.slice(1).filter((e, i) => signature(e) === signature(events[i]!));
    expect(byteOnly.length).toBeGreaterThan(3);
    for (let i = 1; i < events.length; i++) {
      if (signature(events[i]!) === signature(events[i - 1]!)) {
        expect(events[i]!.at - events[i - 1]!.at).toBeGreaterThanOrEqual(95);
      }
    }
    // Both downloads ran at once (default concurrency 2) and the smoothed rate was reported.
    expect(events.some((e) => e.artifacts.every((a) => a.state === 'downloading'))).toBe(true);
    const mid = events.filter((e) => e.phase === 'downloading' && e.bytesPerSecond > 0);
    expect(mid.length).toBeGreaterThan(0);
    expect(mid.some((e) => e.etaSeconds !== null && e.etaSeconds > 0)).toBe(true);
    // Each artifact went through the visible verification step.
    const seen = new Set(events.flatMap((e) => e.artifacts.map((a) => `${a.agent}:${a.state}`)));
    expect(seen).toContain('a:verifying');
    expect(seen).toContain('b:verifying');
  });

  it('in a stall the rate falls to zero within a few seconds, and the time left is unknown once stalled', async () => {
    const s = await server({ artifacts: [{ agent: 'a', version: '1', arch: 'x64', sizeBytes: 3_000_000 }] });
    // About 1.5 s of bytes, then nothing on an open connection.
    s.setFault(keyOf(s, 'a'), { dripBytesPerSec: 1_000_000, stallAtByte: 1_500_000 });
    const events: Array<SyncProgress & { t: number }> = [];
    const controller = new AbortController();
    const running = ensureVmCacheSynced({
      root: await tempRoot(),
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      // "stalled" only after 3 s, the attempt aborted only after 9 s: the rate must fall on its own.
      stallTimeoutMs: 9_000,
      signal: controller.signal,
      onProgress: (p) => events.push({ ...p, t: performance.now() }),
    });
    const lastByteAt = async () => {
      for (;;) {
        const last = events.findLast((e) => e.receivedBytes >= 1_500_000);
        if (last) return events.find((e) => e.receivedBytes >= 1_500_000)!.t;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const stalledAt = await lastByteAt();
    // Until an event arrives more than 6 s into the stall (the heartbeat sends one a
    // second), rather than a fixed 7 s sleep: the heartbeat's interval drifts by every
    // event-loop delay, so on a loaded machine the tick due just before 7 s could come
    // after a fixed sleep and leave no event to check. The attempt's own stall abort
    // comes at 9 s: waiting stops well before it.
    const deadline = stalledAt + 8_500;
    while (!events.some((e) => e.t - stalledAt > 6_000) && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    controller.abort();
    await running.catch(() => {});
    const during = events.filter((e) => e.t > stalledAt && e.phase === 'downloading');
    // Events keep coming with no bytes: at least one a second.
    expect(during.length).toBeGreaterThanOrEqual(5);
    const peak = Math.max(...events.map((e) => e.bytesPerSecond));
    expect(peak).toBeGreaterThan(300_000);
    // Six seconds into the stall nothing was received in the 5 s window: the rate says 0.
    expect(during.filter((e) => e.t - stalledAt > 6_000).every((e) => e.bytesPerSecond === 0)).toBe(true);
    expect(during.some((e) => e.t - stalledAt > 6_000)).toBe(true);
    const stalled = during.filter((e) => e.artifacts[0]!.state === 'stalled');
    expect(stalled.length).toBeGreaterThan(0);
    expect(stalled.every((e) => e.etaSeconds === null)).toBe(true);
  }, 20_000);

  it('the first event comes before the manifest has even arrived', async () => {
    const s = await server({ artifacts: [{ agent: 'a', version: '1', arch: 'x64', sizeBytes: 1000 }] });
    s.setFault('vm/manifest.json', { delayMs: 400 });
    const events: SyncProgress[] = [];
    const root = await tempRoot();
    // Taken after the temp folder is made: its disk work is no part of what is timed.
    const started = Date.now();
    const sync = ensureVmCacheSynced({
      root,
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      onProgress: (p) => events.push(p),
    });
    // The manifest is held back 400 ms: the first event must not wait for it.
    await expect.poll(() => events.length, { timeout: 300, interval: 5 }).toBeGreaterThan(0);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ phase: 'checking', artifacts: [] });
    expect(events[0]!.at - started).toBeLessThan(100);
    await sync;
  });

  it('a late subscriber reads the snapshot of the sync in flight and follows it', async () => {
    const s = await server({ artifacts: [{ agent: 'a', version: '1', arch: 'x64', sizeBytes: 500_000 }] });
    s.setFault(keyOf(s, 'a'), { dripBytesPerSec: 1_000_000 });
    const root = await tempRoot();
    expect(getSyncProgress(root)).toBeUndefined();
    const sync = ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    await expect
      .poll(() => getSyncProgress(root)?.receivedBytes ?? 0, { timeout: 10_000 })
      .toBeGreaterThan(0);
    const snapshot = getSyncProgress(root)!;
    expect(snapshot.phase).toBe('downloading');
    expect(snapshot.receivedBytes).toBeGreaterThan(0);
    const seen: SyncProgress[] = [];
    const stop = watchSyncProgress(root, (p) => seen.push(p));
    expect(seen).toHaveLength(1);
    expect(seen[0]!.receivedBytes).toBeGreaterThanOrEqual(snapshot.receivedBytes);
    await sync;
    stop();
    expect(seen.at(-1)!.phase).toBe('done');
    expect(getSyncProgress(root)).toBeUndefined();
  });

  it('a failed sync ends with phase "failed" and the error in words and code', async () => {
    const s = await server({ artifacts: [{ agent: 'a', version: '1', arch: 'x64', sizeBytes: 1000 }] });
    s.setFault(keyOf(s, 'a'), { status: 403 });
    const events: SyncProgress[] = [];
    await expect(
      ensureVmCacheSynced({
        root: await tempRoot(),
        manifestUrl: s.manifestUrl,
        rawHostArch: 'x64',
        onProgress: (p) => events.push(p),
      }),
    ).rejects.toThrow();
    expect(events.at(-1)).toMatchObject({
      phase: 'failed',
      error: { code: 'ERR_DOWNLOAD_HTTP', message: expect.stringContaining('HTTP 403') },
    });
    expect(events.at(-1)!.artifacts[0]).toMatchObject({
      state: 'failed',
      error: { code: 'ERR_DOWNLOAD_HTTP' },
    });
  });
});
