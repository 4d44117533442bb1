// Disk space on a real small tmpfs: the clear error before any write when
// space is short, ENOSPC mid-write when another process fills the disk, and in
// both cases the previous complete cache still verifies.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freeBytes } from '../../main/engine/diskspace.js';
import { ensureVmCacheSynced, getCachedManifestPath, verifyVmCache } from '../../main/engine/index.js';
import { keyOf, listFiles, server, smallDisk } from '../helpers.js';

const MiB = 1 << 20;

async function cachedDisk() {
  const s = await server({
    artifacts: [
      { agent: 'small', version: '1', arch: 'x64', sizeBytes: 1 * MiB },
      { agent: 'big', version: '1', arch: 'x64', sizeBytes: 16 * MiB },
      { agent: 'mid', version: '1', arch: 'x64', sizeBytes: 5 * MiB },
    ],
  });
  const disk = await smallDisk(8);
  if (!disk) return undefined;
  const full = structuredClone(s.manifest) as { agents: Record<string, unknown> };
  const only = (names: string[]) => ({
    ...full,
    agents: Object.fromEntries(Object.entries(full.agents).filter(([n]) => names.includes(n))),
  });
  s.setManifest(only(['small']));
  const root = path.join(disk, 'root');
  await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
  const manifestBefore = await readFile(getCachedManifestPath(root), 'utf8');
  return { s, root, disk, only, manifestBefore };
}

describe('disk space', () => {
  it('short of space: a disk-full error naming both figures, before any byte is requested or written', async (t) => {
    const ctx = await cachedDisk();
    if (!ctx) return t.skip();
    const { s, root, only, manifestBefore } = ctx;
    s.setManifest(only(['small', 'big']));
    const err = await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' }).catch(
      (e) => e,
    );
    expect(err).toMatchObject({ code: 'ERR_DISK_FULL' });
    expect(err.message).toMatch(
      /disk full at .*: 17\.8 MB needed, [\d.]+ [kM]B free; free some space and retry/,
    );
    // 16 MiB missing plus the 1 MiB margin, against what the 8 MiB disk has left.
    expect(err.neededBytes).toBe(17 * MiB);
    expect(err.freeBytes).toBeLessThan(8 * MiB);
    expect(s.requests.filter((r) => r.path === keyOf(s, 'big'))).toHaveLength(0);
    expect(await listFiles(path.join(root, 'cache'))).toEqual([keyOf(s, 'small'), 'vm/manifest.json'].sort());
    expect(await readFile(getCachedManifestPath(root), 'utf8')).toBe(manifestBefore);
    expect(await verifyVmCache({ root, rawHostArch: 'x64' })).toEqual({
      ok: true,
      entries: [{ key: keyOf(s, 'small'), state: 'ok' }],
    });
  });

  it('ENOSPC in the middle of a write: the same error, the partial removed, the old cache intact', async (t) => {
    const ctx = await cachedDisk();
    if (!ctx) return t.skip();
    const { s, root, disk, only, manifestBefore } = ctx;
    s.setManifest(only(['small', 'mid']));
    s.setFault(keyOf(s, 'mid'), { dripBytesPerSec: 4 * MiB });
    let filled = false;
    let filling: Promise<unknown> = Promise.resolve();
    const err = await ensureVmCacheSynced({
      root,
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      diskMarginBytes: 0,
      onProgress: (p) => {
        // Another process fills the disk once our download is under way.
        if (!filled && p.receivedBytes > 1 * MiB + 256 * 1024) {
          filled = true;
          // The engine keeps writing between the free-space reading and the
          // filler's write, so the filler itself may meet ENOSPC: the disk is
          // full either way, which is what this test needs.
          filling = freeBytes(disk)
            .then((free) =>
              writeFile(path.join(disk, 'filler'), Buffer.alloc(Math.max(0, (free ?? 0) - 64 * 1024))),
            )
            .catch((e: NodeJS.ErrnoException) => {
              if (e.code !== 'ENOSPC') throw e;
            });
        }
      },
    }).catch((e) => e);
    await filling;
    expect(filled).toBe(true);
    expect(err).toMatchObject({ code: 'ERR_DISK_FULL', message: expect.stringContaining('disk full') });
    const key = keyOf(s, 'mid');
    expect(existsSync(path.join(root, 'cache', `${key}.partial`))).toBe(false);
    expect(existsSync(path.join(root, 'cache', key))).toBe(false);
    expect(await readFile(getCachedManifestPath(root), 'utf8')).toBe(manifestBefore);
    expect((await verifyVmCache({ root, rawHostArch: 'x64' })).ok).toBe(true);
  });
});
