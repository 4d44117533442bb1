// A sync shared by several callers (cancel, listeners, trust), and a new
// version of a tarball under the same key: the last good cache survives a
// failure partway through.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureVmCacheSynced, getCachedManifestPath, verifyVmCache } from '../../main/engine/index.js';
import { keyOf, server, tempRoot } from '../helpers.js';

const artifacts = (seed: string) => [
  { agent: 'a', version: '1', arch: 'x64' as const, sizeBytes: 200_000, seed: `a-${seed}` },
  { agent: 'b', version: '1', arch: 'x64' as const, sizeBytes: 150_000, seed: `b-${seed}` },
];

describe('a new version under the same key', () => {
  it('a failure after one tarball was replaced leaves the old manifest and the old bytes', async () => {
    const v1 = await server({ artifacts: artifacts('v1') });
    const root = await tempRoot();
    await ensureVmCacheSynced({ root, manifestUrl: v1.manifestUrl, rawHostArch: 'x64', concurrency: 1 });
    const manifestBefore = await readFile(getCachedManifestPath(root), 'utf8');

    const v2 = await server({ artifacts: artifacts('v2') });
    v2.setFault(keyOf(v2, 'b'), { status: 404 });
    await expect(
      ensureVmCacheSynced({ root, manifestUrl: v2.manifestUrl, rawHostArch: 'x64', concurrency: 1 }),
    ).rejects.toMatchObject({ code: 'ERR_DOWNLOAD_HTTP' });
    // a's new bytes were downloaded and verified, but not swapped in.
    expect(v2.bytesServed(keyOf(v2, 'a'))).toBe(200_000);
    expect(await readFile(getCachedManifestPath(root), 'utf8')).toBe(manifestBefore);
    expect(await readFile(path.join(root, 'cache', keyOf(v1, 'a')))).toEqual(v1.contentOf(keyOf(v1, 'a')));
    expect((await verifyVmCache({ root, rawHostArch: 'x64' })).ok).toBe(true);

    // Once the server is whole again, the staged download is used, not fetched again.
    v2.setFault(keyOf(v2, 'b'), undefined);
    const result = await ensureVmCacheSynced({ root, manifestUrl: v2.manifestUrl, rawHostArch: 'x64' });
    expect(result.downloaded.sort()).toEqual([keyOf(v2, 'a'), keyOf(v2, 'b')].sort());
    expect(v2.bytesServed(keyOf(v2, 'a'))).toBe(200_000);
    expect(await readFile(path.join(root, 'cache', keyOf(v2, 'a')))).toEqual(v2.contentOf(keyOf(v2, 'a')));
    expect((await verifyVmCache({ root, rawHostArch: 'x64' })).ok).toBe(true);
  });
});

describe('a shared sync', () => {
  it("any caller's cancel cancels it", async () => {
    const s = await server({ artifacts: artifacts('x') });
    s.setFault(keyOf(s, 'a'), { dripBytesPerSec: 200_000 });
    const root = await tempRoot();
    const first = ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    const controller = new AbortController();
    const second = ensureVmCacheSynced({
      root,
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      signal: controller.signal,
    });
    expect(second).toBe(first);
    setTimeout(() => controller.abort(), 200);
    await expect(first).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(existsSync(getCachedManifestPath(root))).toBe(false);
  });

  it('a throwing progress listener of a joining caller breaks nothing', async () => {
    const s = await server({ artifacts: artifacts('y') });
    const root = await tempRoot();
    const first = ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    const second = ensureVmCacheSynced({
      root,
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      onProgress: () => {
        throw new Error('listener bug');
      },
    });
    expect(second).toBe(first);
    expect((await second).downloaded).toHaveLength(2);
  });

  it('a caller that requires a signature never joins a sync that checks none', async () => {
    const s = await server({ artifacts: artifacts('z') });
    const root = await tempRoot();
    const publicKey = generateKeyPairSync('ed25519')
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const unsigned = ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    const signed = ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64', publicKey });
    expect(signed).not.toBe(unsigned);
    await expect(signed).rejects.toMatchObject({ code: 'ERR_SIGNATURE' });
    await unsigned;
  });
});
