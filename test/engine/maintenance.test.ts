// After a sync: pruning what the new manifest no longer names, Verify, Clear,
// the status summary, and offline behaviour.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  clearVmCache,
  ensureVmCacheAvailable,
  ensureVmCacheSynced,
  getCachedManifestPath,
  getVmCacheStatus,
  verifyVmCache,
} from '../../main/engine/index.js';
import { keyOf, listFiles, server, tempRoot } from '../helpers.js';

async function twoAgents() {
  const s = await server({
    artifacts: [
      { agent: 'a', version: '1', arch: 'x64', sizeBytes: 100_000 },
      { agent: 'b', version: '1', arch: 'x64', sizeBytes: 120_000 },
      { agent: 'b', version: '1', arch: 'arm64', sizeBytes: 90_000 },
    ],
  });
  const full = structuredClone(s.manifest) as { agents: Record<string, unknown> };
  const only = (names: string[]) => ({
    ...full,
    agents: Object.fromEntries(Object.entries(full.agents).filter(([n]) => names.includes(n))),
  });
  return { s, only, root: await tempRoot() };
}

describe('pruning', () => {
  it('removes tarballs and stale partials the new manifest does not reference, keeps other arches it names', async () => {
    const { s, only, root } = await twoAgents();
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, allArches: true });
    const cache = path.join(root, 'cache');
    await writeFile(path.join(cache, 'vm/images/old-0.9-x64.tar.gz.partial'), 'stale');
    await writeFile(path.join(cache, 'vm/images/old-0.9-x64.tar.gz.partial.json'), '{}');
    // An x64-only sync keeps b's arm64 tarball: the manifest still names it.
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect(await listFiles(cache)).toEqual(
      [keyOf(s, 'a'), keyOf(s, 'b'), keyOf(s, 'b', 'arm64'), 'vm/manifest.json'].sort(),
    );
    const keyA = keyOf(s, 'a');
    s.setManifest(only(['a']));
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect(await listFiles(cache)).toEqual([keyA, 'vm/manifest.json'].sort());
  });

  it('prune: false keeps them', async () => {
    const { s, only, root } = await twoAgents();
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    const keyB = keyOf(s, 'b');
    s.setManifest(only(['a']));
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64', prune: false });
    expect(existsSync(path.join(root, 'cache', keyB))).toBe(true);
  });
});

describe('verify', () => {
  it('reports ok, missing and corrupt; removes the corrupt file; the next sync repairs both', async () => {
    const { s, root } = await twoAgents();
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect(await verifyVmCache({ root, rawHostArch: 'x64' })).toEqual({
      ok: true,
      entries: [
        { key: keyOf(s, 'a'), state: 'ok' },
        { key: keyOf(s, 'b'), state: 'ok' },
      ],
    });
    const fileA = path.join(root, 'cache', keyOf(s, 'a'));
    const bytes = await readFile(fileA);
    bytes[500] = (bytes[500] ?? 0) ^ 0xff;
    await writeFile(fileA, bytes);
    const { rm } = await import('node:fs/promises');
    await rm(path.join(root, 'cache', keyOf(s, 'b')));
    expect(await verifyVmCache({ root, rawHostArch: 'x64' })).toEqual({
      ok: false,
      entries: [
        { key: keyOf(s, 'a'), state: 'corrupt' },
        { key: keyOf(s, 'b'), state: 'missing' },
      ],
    });
    expect(existsSync(fileA)).toBe(false);
    // The manifest no longer vouches for a broken cache.
    expect(existsSync(getCachedManifestPath(root))).toBe(false);
    const result = await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect(result.downloaded.sort()).toEqual([keyOf(s, 'a'), keyOf(s, 'b')].sort());
    expect((await verifyVmCache({ root, rawHostArch: 'x64' })).ok).toBe(true);
  });

  it('with no cache, reports not ok and no entries', async () => {
    expect(await verifyVmCache({ root: await tempRoot(), rawHostArch: 'x64' })).toEqual({
      ok: false,
      entries: [],
    });
  });
});

describe('clear and status', () => {
  it('status summarises the cache; clear removes it all and reports the bytes freed', async () => {
    const { s, root } = await twoAgents();
    const empty = await getVmCacheStatus({ root, manifestUrl: s.manifestUrl });
    expect(empty).toMatchObject({ cached: null, sizeOnDiskBytes: 0, lastSync: null, progress: null });
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    const status = await getVmCacheStatus({ root, manifestUrl: s.manifestUrl });
    const manifestSize = (await readFile(getCachedManifestPath(root))).length;
    expect(status.sizeOnDiskBytes).toBe(100_000 + 120_000 + manifestSize);
    expect(status.cached!.updatedAt).toBe((s.manifest as { updatedAt: string }).updatedAt);
    expect(status.cached!.artifacts.map((a) => [a.agent, a.arch, a.present])).toEqual([
      ['a', 'x64', true],
      ['b', 'x64', true],
      ['b', 'arm64', false],
    ]);
    expect(status.lastSync!.downloaded.sort()).toEqual([keyOf(s, 'a'), keyOf(s, 'b')].sort());
    expect(await clearVmCache({ root })).toEqual({ removedBytes: status.sizeOnDiskBytes });
    // Only the memory of the newest manifest accepted remains (rollback protection outlives a clear).
    expect(await listFiles(root)).toEqual(['state/trusted-manifests.json']);
    expect((await getVmCacheStatus({ root })).cached).toBeNull();
  });
});

describe('offline', () => {
  it('a failed manifest fetch never damages a complete cache, and the cache stays available', async () => {
    const { s, root } = await twoAgents();
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    const before = await listFiles(root);
    const manifestBefore = await readFile(getCachedManifestPath(root), 'utf8');
    const url = s.manifestUrl;
    await s.close();
    await expect(ensureVmCacheSynced({ root, manifestUrl: url, rawHostArch: 'x64' })).rejects.toMatchObject({
      code: 'ERR_MANIFEST_FETCH',
    });
    expect(await listFiles(root)).toEqual(before);
    expect(await readFile(getCachedManifestPath(root), 'utf8')).toBe(manifestBefore);
    expect((await ensureVmCacheAvailable({ root, manifestUrl: url, rawHostArch: 'x64' })).skipped).toBe(true);
    expect((await verifyVmCache({ root, rawHostArch: 'x64' })).ok).toBe(true);
  });

  it('a failed sync of new content leaves the old complete cache in place', async () => {
    const { s, root } = await twoAgents();
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    const manifestBefore = await readFile(getCachedManifestPath(root), 'utf8');
    const doc = structuredClone(s.manifest) as {
      agents: { a: { version: string; tarballs: { x64: { sha256: string } } } };
    };
    doc.agents.a.tarballs.x64.sha256 = 'f'.repeat(64);
    s.setManifest(doc);
    await mkdir(path.join(root, 'cache', 'vm'), { recursive: true });
    await expect(
      ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' }),
    ).rejects.toThrow(/sha256 mismatch/);
    expect(await readFile(getCachedManifestPath(root), 'utf8')).toBe(manifestBefore);
  });
});
