// The controller against the real engine and a real artifact server on
// 127.0.0.1: sync, cancel and resume, verify, clear, status, the launch
// prefetch, and what it logs.
import { existsSync } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CacheStatusSchema } from '../../contract/status.js';
import { ensureVmCacheSynced, VmCacheError } from '../../main/engine/index.js';
import { VmCacheController } from '../../main/service/controller.js';
import { keyOf, oneArtifactServer, server, tempRoot } from '../helpers.js';
import { controllerFor, dripServer, recordingLogger, waitFor } from './support.js';

describe('VmCacheController', () => {
  it('status of an empty root, then of a synced one', async () => {
    const s = await oneArtifactServer();
    const c = await controllerFor(s, { logPath: '/var/log/app/vm-cache.log' });
    const before = await c.getStatus();
    expect(CacheStatusSchema.parse(before)).toEqual(before);
    expect(before).toMatchObject({
      root: c.root,
      manifestUrl: s.manifestUrl,
      cached: null,
      sizeOnDiskBytes: 0,
      lastSync: null,
      progress: null,
      logPath: '/var/log/app/vm-cache.log',
    });
    expect(await c.hasCompleteCache()).toBe(false);

    const key = keyOf(s);
    const result = await c.sync();
    expect(result).toMatchObject({ downloaded: [key], skipped: false });
    const after = await c.getStatus();
    expect(after.cached?.artifacts).toEqual([expect.objectContaining({ key, present: true, arch: 'x64' })]);
    expect(after.lastSync?.downloaded).toEqual([key]);
    expect(after.sizeOnDiskBytes).toBeGreaterThanOrEqual(300_000);
    expect(await c.hasCompleteCache()).toBe(true);

    // The warm path: nothing to download, and the cache is still complete.
    expect(await c.sync()).toMatchObject({ downloaded: [], skipped: true });
  });

  it('concurrent sync() calls share one in-flight promise and one download', async () => {
    const s = await oneArtifactServer();
    const c = await controllerFor(s);
    const a = c.sync();
    const b = c.sync();
    expect(a).toBe(b);
    expect(c.syncing).toBe(true);
    await a;
    expect(c.syncing).toBe(false);
    expect(s.requests.filter((r) => r.path.endsWith('.tar.gz'))).toHaveLength(1);
  });

  it('logs its own sync only, not another sync of the same root running beside it', async () => {
    const s = await server({
      artifacts: [
        { agent: 'openclaw', version: '1', arch: 'x64', sizeBytes: 200_000 },
        { agent: 'openclaw', version: '1', arch: 'arm64', sizeBytes: 200_000 },
      ],
    });
    const logger = recordingLogger();
    const c = await controllerFor(s, { logger });
    // The host syncs every arch of the same root itself, through the engine, at the same time.
    const other = ensureVmCacheSynced({ root: c.root, manifestUrl: s.manifestUrl, allArches: true });
    await Promise.all([c.sync(), other]);
    const text = logger.lines.map((l) => l.text).join('\n');
    expect(text).toContain('openclaw 1 x64');
    expect(text).not.toContain('arm64');
  });

  it('cancel mid-download rejects with ERR_ABORTED; the next sync fetches only the remainder', async () => {
    const size = 600_000;
    const { s, key } = await dripServer(size, 400_000);
    const c = await controllerFor(s);
    let received = 0;
    const unwatch = c.watch((p) => {
      received = p.receivedBytes;
    });
    const first = c.sync();
    await waitFor(() => received >= 100_000, 10_000, 'some bytes');
    expect(await c.cancel()).toEqual({ cancelled: true });
    unwatch();
    const err = await first.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VmCacheError);
    expect((err as VmCacheError).code).toBe('ERR_ABORTED');
    expect(c.syncing).toBe(false);

    const file = path.join(c.root, 'cache', key);
    const kept = (await stat(`${file}.partial`)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(size);
    const servedBefore = s.bytesServed(key);

    s.setFault(key, undefined);
    expect(await c.sync()).toMatchObject({ downloaded: [key] });
    expect(s.bytesServed(key) - servedBefore).toBe(size - kept);
    expect(s.requests.filter((r) => r.path === key).at(-1)?.range).toBe(`bytes=${kept}-`);
    expect((await stat(file)).size).toBe(size);
  });

  it('setLimitRate changes the cap of the sync in flight: slow first, then uncapped to the end', async () => {
    const s = await oneArtifactServer(6 << 20);
    const root = await tempRoot();
    const c = new VmCacheController({
      root,
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      limitRate: 64 << 10,
    });
    expect(c.limitRate).toBe(64 << 10);
    let received = 0;
    const unwatch = c.watch((p) => {
      received = p.receivedBytes;
    });
    const running = c.sync();
    await new Promise((r) => setTimeout(r, 1000));
    // About a second at 64 KiB/s (and one bucket): far from the 6 MiB.
    expect(received).toBeLessThan(512 << 10);
    c.setLimitRate(undefined);
    expect(c.limitRate).toBeUndefined();
    const raised = performance.now();
    await running;
    unwatch();
    // The rest at 64 KiB/s would take over a minute.
    expect((performance.now() - raised) / 1000).toBeLessThan(10);
    expect(() => c.setLimitRate(10)).toThrow(/at least 1024/);
  });

  it('cancel with nothing in flight says so', async () => {
    const s = await oneArtifactServer();
    const c = await controllerFor(s);
    expect(await c.cancel()).toEqual({ cancelled: false });
  });

  it('verify finds a corrupt tarball and removes it; the next sync repairs it', async () => {
    const s = await oneArtifactServer();
    const c = await controllerFor(s);
    const key = keyOf(s);
    await c.sync();
    expect(await c.verify()).toEqual({ ok: true, entries: [{ key, state: 'ok' }] });

    const file = path.join(c.root, 'cache', key);
    const handle = await open(file, 'r+');
    await handle.write(Buffer.from([0xff, 0x00, 0xff]), 0, 3, 1000);
    await handle.close();
    expect(await c.verify()).toEqual({ ok: false, entries: [{ key, state: 'corrupt' }] });
    expect(existsSync(file)).toBe(false);
    expect(await c.hasCompleteCache()).toBe(false);

    expect(await c.sync()).toMatchObject({ downloaded: [key] });
    expect(await c.verify()).toMatchObject({ ok: true });
  });

  it('verify on an empty root reports not ok with no entries', async () => {
    const s = await oneArtifactServer();
    const c = await controllerFor(s);
    expect(await c.verify()).toEqual({ ok: false, entries: [] });
  });

  it('clear removes the cache and reports the bytes', async () => {
    const s = await oneArtifactServer();
    const c = await controllerFor(s);
    await c.sync();
    const { removedBytes } = await c.clear();
    expect(removedBytes).toBeGreaterThanOrEqual(300_000);
    const status = await c.getStatus();
    expect(status.cached).toBeNull();
    expect(status.sizeOnDiskBytes).toBe(0);
    expect(await c.hasCompleteCache()).toBe(false);
  });

  it('clear cancels a sync in flight first (it holds the lock), then clears', async () => {
    const { s } = await dripServer(600_000, 300_000);
    const c = await controllerFor(s);
    let downloading = false;
    const unwatch = c.watch((p) => {
      if (p.receivedBytes > 0) downloading = true;
    });
    const running = c.sync();
    const outcome = running.then(
      () => 'resolved',
      (e: VmCacheError) => e.code,
    );
    await waitFor(() => downloading, 10_000, 'download start');
    await c.clear();
    unwatch();
    expect(await outcome).toBe('ERR_ABORTED');
    expect((await c.getStatus()).cached).toBeNull();
    expect(existsSync(path.join(c.root, 'cache'))).toBe(false);
  });

  it('hasCompleteCache looks at this host’s arch only, and at every arch with allArches', async () => {
    const s = await server({
      artifacts: [
        { agent: 'openclaw', version: '1', arch: 'x64', sizeBytes: 50_000 },
        { agent: 'openclaw', version: '1', arch: 'arm64', sizeBytes: 40_000 },
      ],
    });
    const root = await tempRoot();
    const x64 = new VmCacheController({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    await x64.sync();
    expect(await x64.hasCompleteCache()).toBe(true);
    const every = new VmCacheController({
      root,
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      allArches: true,
    });
    expect(await every.hasCompleteCache()).toBe(false);
    const arm = new VmCacheController({ root, manifestUrl: s.manifestUrl, rawHostArch: 'arm64' });
    expect(await arm.hasCompleteCache()).toBe(false);
    const odd = new VmCacheController({ root, manifestUrl: s.manifestUrl, rawHostArch: 'mips' });
    expect(await odd.hasCompleteCache()).toBe(false);
    await rm(path.join(root, 'cache', keyOf(s, 'openclaw', 'x64')));
    expect(await x64.hasCompleteCache()).toBe(false);
  });

  it('a failing sync rejects with the engine’s coded error and is logged once', async () => {
    const s = await oneArtifactServer();
    s.setFault('vm/manifest.json', { status: 404 });
    const logger = recordingLogger();
    const c = await controllerFor(s, { logger });
    const err = await c.sync().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VmCacheError);
    expect((err as VmCacheError).code).toBe('ERR_MANIFEST_FETCH');
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([
      {
        level: 'error',
        text: expect.stringMatching(/^sync failed: ERR_MANIFEST_FETCH: manifest fetch failed/),
      },
    ]);
  });

  it('prefetch that fails and is never awaited raises no unhandled rejection', async () => {
    const s = await oneArtifactServer();
    s.setFault('vm/manifest.json', { status: 500 });
    const logger = recordingLogger();
    const c = await controllerFor(s, { logger, retries: 0 });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      c.prefetch();
      await waitFor(() => !c.syncing, 10_000, 'the prefetch to settle');
      // An unhandled rejection is reported once the microtasks of the tick have run.
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(logger.lines.some((l) => l.level === 'error' && l.text.startsWith('sync failed:'))).toBe(true);
  });

  it('retries transient failures (5 by default) before giving up', async () => {
    const s = await oneArtifactServer();
    s.setFault('vm/manifest.json', { status: 503, times: 2 });
    const c = await controllerFor(s, { engine: { retryPolicy: { baseDelayMs: 1, maxDelayMs: 5 } } });
    await expect(c.sync()).resolves.toMatchObject({ skipped: false });
    expect(s.requests.filter((r) => r.path === 'vm/manifest.json')).toHaveLength(3);
  });

  it('logs one line per phase and artifact state change, not one per byte event', async () => {
    const { s, key } = await dripServer(400_000, 300_000);
    const logger = recordingLogger();
    const c = await controllerFor(s, { logger });
    let events = 0;
    const unwatch = c.watch(() => events++);
    await c.sync();
    unwatch();
    const texts = logger.lines.map((l) => l.text);
    expect(events).toBeGreaterThan(8);
    expect(texts.length).toBeLessThan(events);
    expect(texts[0]).toMatch(/^sync started: http:\/\/127\.0\.0\.1:\d+\/vm\/manifest\.json -> /);
    expect(texts).toContain('phase: downloading');
    expect(texts).toContain('openclaw 2026.4.12 x64: downloading');
    expect(texts).toContain('openclaw 2026.4.12 x64: verified');
    expect(texts.at(-1)).toMatch(
      new RegExp(`^sync done in [\\d.]+s: downloaded ${key.replace(/\./g, '\\.')}$`),
    );
    // No line repeats: a line means a change.
    expect(new Set(texts).size).toBe(texts.length);
  });

  it('watch() on a sync in flight delivers the current snapshot first', async () => {
    const { s } = await dripServer(400_000, 400_000);
    const c = await controllerFor(s);
    const running = c.sync();
    await waitFor(() => (c.currentProgress()?.receivedBytes ?? 0) > 0, 10_000, 'bytes');
    const seen: string[] = [];
    const unwatch = c.watch((p) => seen.push(p.phase));
    expect(seen).toEqual(['downloading']);
    await running;
    unwatch();
    expect(seen.at(-1)).toBe('done');
  });
});
