// Pause and resume against an artifact server on a real socket: a paused sync
// closes its connections (the server sends nothing more), lets go of the lock,
// keeps its partial and says `paused`; resuming asks only for the rest.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SyncProgress } from '../../contract/progress.js';
import {
  clearVmCache,
  ensureVmCacheSynced,
  getSyncProgress,
  pauseVmCacheSync,
} from '../../main/engine/index.js';
import { keyOf, server, tempRoot } from '../helpers.js';
import { sha256 } from './delta-fixtures.js';

const MiB = 1 << 20;

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

  it('with nothing running, pause says so', async () => {
    expect(await pauseVmCacheSync(await tempRoot())).toBe(false);
  });
});
