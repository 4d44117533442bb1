// Pause and resume against an artifact server on a real socket: a paused sync
// closes its connections (the server sends nothing more), lets go of the lock,
// keeps its partial and says `paused`; resuming asks only for the rest.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SyncProgress } from '../../contract/progress.js';
import {
  clearVmCache,
  ensureVmCacheSynced,
  getPausedVmCacheSync,
  getSyncProgress,
  pauseVmCacheSync,
} from '../../main/engine/index.js';
import { pausedMarkerPath } from '../../main/engine/paused-marker.js';
import { keyOf, runTsChild, server, tempRoot } from '../helpers.js';
import { sha256 } from './delta-fixtures.js';

const MiB = 1 << 20;
const STATUS_CHILD = new URL('./fixtures/status-child.ts', import.meta.url).pathname;
const SYNC_CHILD = new URL('./fixtures/sync-child.ts', import.meta.url).pathname;

/** A sync of one `size`-byte tarball sent at `rate` bytes/s per connection, once `past` bytes have arrived. */
async function syncUnderWay(size: number, rate: number, past: number) {
  const s = await server({
    artifacts: [{ agent: 'openclaw', version: '1', arch: 'x64', sizeBytes: size }],
    throttleBytesPerSec: rate,
  });
  const root = await tempRoot();
  const events: SyncProgress[] = [];
  const running = ensureVmCacheSynced({
    root,
    manifestUrl: s.manifestUrl,
    rawHostArch: 'x64',
    onProgress: (p) => events.push(p),
  });
  running.catch(() => {});
  while ((events.at(-1)?.receivedBytes ?? 0) < past) await new Promise((r) => setTimeout(r, 20));
  return { s, root, events, running };
}

describe('pause and resume', () => {
  it('pause closes every connection and the lock, keeps the partial, says paused; resume fetches only the rest', async () => {
    const size = 12 * MiB;
    const { s, root, events, running } = await syncUnderWay(size, 3 * MiB, 2 * MiB);
    const key = keyOf(s);

    expect(await pauseVmCacheSync(root)).toBe(true);
    await expect(running).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    const last = events.at(-1)!;
    expect(last).toMatchObject({ phase: 'cancelled', paused: true });
    expect(last.receivedBytes).toBeGreaterThanOrEqual(2 * MiB);
    // Later readers (a window opened now) see the pause too.
    expect(getSyncProgress(root)).toMatchObject({ paused: true, receivedBytes: last.receivedBytes });
    // Nothing open: every response is over, and nothing more is sent while paused.
    expect(s.requests.filter((r) => r.path === key).every((r) => r.closed)).toBe(true);
    const servedAtPause = s.bytesServed(key);
    await new Promise((r) => setTimeout(r, 800));
    expect(s.bytesServed(key)).toBe(servedAtPause);
    // The lock is let go and the partial kept.
    expect(existsSync(path.join(root, 'state', 'sync.lock'))).toBe(false);
    expect(existsSync(path.join(root, 'cache', `${key}.partial`))).toBe(true);

    const before = s.requests.length;
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect(sha256(await readFile(path.join(root, 'cache', key)))).toBe(sha256(s.contentOf(key)));
    const again = s.requests.slice(before).filter((r) => r.path === key);
    expect(Number(/^bytes=(\d+)-/.exec(again[0]!.range ?? '')?.[1])).toBeGreaterThan(MiB);
    // The rest only (and what sat in sockets at the pause).
    expect(s.bytesServed(key)).toBeLessThan(size + 2 * MiB);
    expect(getSyncProgress(root)).toBeUndefined();
  });

  it('a clear after a pause forgets it: the partials it kept are gone', async () => {
    const { root } = await syncUnderWay(8 * MiB, 2 * MiB, MiB);
    expect(await pauseVmCacheSync(root)).toBe(true);
    expect(getSyncProgress(root)?.paused).toBe(true);
    await clearVmCache({ root });
    expect(getSyncProgress(root)).toBeUndefined();
  });

  it('another process sees the pause (and no lock), until a sync of the root starts again', async () => {
    const { s, root } = await syncUnderWay(4 * MiB, 2 * MiB, MiB);
    expect(await pauseVmCacheSync(root)).toBe(true);
    const other = await runTsChild(STATUS_CHILD, [root]).done;
    expect(other.code).toBe(0);
    const seen = other.lines[0]!.progress as SyncProgress;
    expect(seen).toMatchObject({ root, phase: 'cancelled', paused: true });
    expect(seen.receivedBytes).toBeGreaterThanOrEqual(MiB);
    expect(existsSync(path.join(root, 'state', 'sync.lock'))).toBe(false);

    // A sync of the root (here a resume; in another process `vm-cache sync`) ends the pause everywhere.
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect(existsSync(pausedMarkerPath(root))).toBe(false);
    const after = await runTsChild(STATUS_CHILD, [root]).done;
    expect(after.lines[0]!.progress).toBeNull();
  });

  it('a sync of another process that waited for the lock ends the pause: no stale marker once it has finished', async () => {
    const { s, root } = await syncUnderWay(8 * MiB, 2 * MiB, MiB);
    const other = runTsChild(SYNC_CHILD, [root, s.manifestUrl]);
    // The other process starts (tsx), asks for the manifest and waits for this one's lock; it takes the
    // lock when the pause lets go. Were it still starting, its own start would clear the marker anyway.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await pauseVmCacheSync(root)).toBe(true);
    const done = await other.done;
    expect(done.lines.at(-1)).toMatchObject({ result: { skipped: false } });
    expect(existsSync(pausedMarkerPath(root))).toBe(false);
    const seen = await runTsChild(STATUS_CHILD, [root]).done;
    expect(seen.lines[0]!.progress).toBeNull();
  });

  it('a clear removes the marker too; a marker that is no paused snapshot of this root is ignored', async () => {
    const { root } = await syncUnderWay(8 * MiB, 2 * MiB, MiB);
    await pauseVmCacheSync(root);
    expect(await getPausedVmCacheSync(root)).toMatchObject({ paused: true });
    await clearVmCache({ root });
    expect(await getPausedVmCacheSync(root)).toBeUndefined();

    const other = await tempRoot();
    await mkdir(path.dirname(pausedMarkerPath(other)), { recursive: true });
    const full = {
      root: other,
      phase: 'cancelled',
      paused: true,
      artifacts: [],
      receivedBytes: 1,
      totalBytes: 2,
      bytesPerSecond: 0,
      etaSeconds: null,
      attempt: 1,
      startedAt: 1,
      at: 2,
    };
    for (const [content, why] of [
      ['not json', 'not JSON'],
      [JSON.stringify({ ...full, root }), 'another root'],
      [JSON.stringify({ ...full, paused: false }), 'not paused'],
      [JSON.stringify({ ...full, phase: 'downloading' }), 'not ended'],
      [JSON.stringify({ ...full, receivedBytes: -5 }), 'not a snapshot'],
    ] as const) {
      await writeFile(pausedMarkerPath(other), content);
      expect(await getPausedVmCacheSync(other), why).toBeUndefined();
    }
    await writeFile(pausedMarkerPath(other), JSON.stringify(full));
    expect(await getPausedVmCacheSync(other)).toMatchObject({ paused: true, root: other });
  });

  it('with nothing running, pause says so', async () => {
    expect(await pauseVmCacheSync(await tempRoot())).toBe(false);
  });
});
