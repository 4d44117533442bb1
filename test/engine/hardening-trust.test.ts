// What the cache trusts, tried as an attacker and a careless world would:
// rollback to an older (validly signed) manifest, also by a slower second
// process; expired manifests; a cached manifest vouching across arches; a
// read-only cache; nesting that would overflow the stack at commit.
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { installStaged } from '../../main/engine/commit.js';
import {
  ensureVmCacheAvailable,
  ensureVmCacheSynced,
  getCachedManifestPath,
  type SyncProgress,
} from '../../main/engine/index.js';
import type { ArtifactServer } from '../../server/index.js';
import { listFiles, oneArtifactServer, server, smallDisk, tempRoot } from '../helpers.js';

type Entry = { key: string; sha256: string; sizeBytes: number };
type Agents = Record<string, { version: string; tarballs: Record<string, Entry> }>;

/** One server holding two releases of one agent; `release(n)` is the manifest naming release n only. */
async function twoReleases() {
  const s = await server({
    artifacts: [
      { agent: 'r1', version: '1.0.0', arch: 'x64', sizeBytes: 40_000 },
      { agent: 'r2', version: '2.0.0', arch: 'x64', sizeBytes: 50_000 },
    ],
  });
  const agents = s.manifest.agents as Agents;
  const release = (n: 1 | 2, extra: Record<string, unknown> = {}) => ({
    schemaVersion: 2,
    updatedAt: n === 1 ? '2026-10-01T00:00:00.000Z' : '2026-11-01T00:00:00.000Z',
    ...extra,
    agents: { vm: agents[`r${n}`]! },
  });
  return { s, release, key: (n: 1 | 2) => agents[`r${n}`]!.tarballs.x64!.key };
}

function serveSigned(s: ArtifactServer, doc: unknown, key: KeyObject): void {
  const bytes = Buffer.from(`${JSON.stringify(doc, null, 2)}\n`);
  s.setManifest(doc);
  s.setFault('vm/manifest.json.sig', { body: `${sign(null, bytes, key).toString('base64')}\n` });
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A server with one agent for x64 and arm64; `arm` is the arm64 entry. */
async function bothArches() {
  const s = await server({
    artifacts: [
      { agent: 'openclaw', version: '1', arch: 'x64', sizeBytes: 20_000 },
      { agent: 'openclaw', version: '1', arch: 'arm64', sizeBytes: 25_000 },
    ],
  });
  return { s, arm: (s.manifest.agents as Agents).openclaw!.tarballs.arm64! };
}

describe('rollback and freeze protection', () => {
  it('an older, validly signed manifest after a newer one: ERR_ROLLBACK, no tarball request, nothing pruned', async () => {
    const { s, release, key } = await twoReleases();
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const root = await tempRoot();
    const o = { root, manifestUrl: s.manifestUrl, rawHostArch: 'x64', publicKey };
    serveSigned(s, release(2), privateKey);
    await ensureVmCacheSynced(o);
    const manifestBefore = await readFile(getCachedManifestPath(root));

    serveSigned(s, release(1), privateKey);
    const requests = s.requests.length;
    await expect(ensureVmCacheSynced(o)).rejects.toMatchObject({
      code: 'ERR_ROLLBACK',
      message: expect.stringMatching(/before 2026-11-01.*publishes a newer manifest/),
    });
    // The manifest and its signature were fetched; no tarball was.
    expect(s.requests.slice(requests).map((r) => r.path)).toEqual([
      'vm/manifest.json',
      'vm/manifest.json.sig',
    ]);
    expect(await readFile(getCachedManifestPath(root))).toEqual(manifestBefore);
    expect(await listFiles(path.join(root, 'cache'))).toContain(key(2));
  });

  it('a deliberate rollback is a newer manifest naming the older tarball: accepted', async () => {
    const { s, release, key } = await twoReleases();
    const root = await tempRoot();
    const o = { root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' };
    s.setManifest(release(2));
    await ensureVmCacheSynced(o);
    s.setManifest({ ...release(1), updatedAt: '2026-11-02T00:00:00.000Z' });
    expect((await ensureVmCacheSynced(o)).downloaded).toEqual([key(1)]);
  });

  it('`manifestVersion` orders manifests when both carry one; the same version with other content is refused', async () => {
    const { s, release } = await twoReleases();
    const root = await tempRoot();
    const o = { root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' };
    // The dates say the opposite: version decides.
    s.setManifest(release(1, { manifestVersion: 7 }));
    await ensureVmCacheSynced(o);
    s.setManifest(release(2, { manifestVersion: 6 }));
    await expect(ensureVmCacheSynced(o)).rejects.toMatchObject({ code: 'ERR_ROLLBACK' });
    s.setManifest(release(2, { manifestVersion: 7 }));
    await expect(ensureVmCacheSynced(o)).rejects.toMatchObject({
      code: 'ERR_ROLLBACK',
      message: expect.stringContaining('already accepted with different content'),
    });
    s.setManifest(release(2, { manifestVersion: 8 }));
    await ensureVmCacheSynced(o);
  });

  it('a cache from before the record (none yet) compares the same document in another layout as the same', async () => {
    const { s, release } = await twoReleases();
    const root = await tempRoot();
    const o = { root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' };
    // Served compact: the cache stores it pretty-printed, so the bytes differ.
    s.setManifest(JSON.stringify(release(2, { manifestVersion: 5 })));
    await ensureVmCacheSynced(o);
    await rm(path.join(root, 'state', 'trusted-manifests.json'));
    expect((await ensureVmCacheSynced(o)).skipped).toBe(true);
    // And the cached manifest still guards it: an older one is refused.
    await rm(path.join(root, 'state', 'trusted-manifests.json'));
    s.setManifest(release(1, { manifestVersion: 4 }));
    await expect(ensureVmCacheSynced(o)).rejects.toMatchObject({ code: 'ERR_ROLLBACK' });
  });

  it('a second process that fetched an older manifest before waiting for the lock does not commit after the newer one', async () => {
    const { s, release, key } = await twoReleases();
    const root = await tempRoot();
    // The first process holds the lock while it downloads release 2, slowly.
    s.setManifest(release(2));
    s.setFault(key(2), { dripBytesPerSec: 100_000 });
    const downloading = phaseReached('downloading');
    const newer = ensureVmCacheSynced({
      ...downloading.options,
      root,
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
    });
    await downloading.reached;
    // The second has the older release in hand and waits for the lock.
    s.setManifest(release(1));
    const waiting = phaseReached('waiting-for-lock');
    const older = ensureVmCacheSynced({
      ...waiting.options,
      root,
      manifestUrl: `${s.manifestUrl}?second-process`,
      rawHostArch: 'x64',
    });
    older.catch(() => {});
    await waiting.reached;
    await newer;
    await expect(older).rejects.toMatchObject({ code: 'ERR_ROLLBACK' });
    const cached = JSON.parse(await readFile(getCachedManifestPath(root), 'utf8')) as { agents: Agents };
    expect(cached.agents.vm!.version).toBe('2.0.0');
    expect(await listFiles(path.join(root, 'cache'))).toContain(key(2));
  });

  it('an expired manifest is refused before any tarball request; a malformed expiresAt is invalid', async () => {
    const { s, release } = await twoReleases();
    const root = await tempRoot();
    const o = { root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' };
    s.setManifest(release(1, { expiresAt: '2026-01-01T00:00:00Z' }));
    await expect(ensureVmCacheSynced(o)).rejects.toMatchObject({
      code: 'ERR_MANIFEST_EXPIRED',
      message: expect.stringContaining('expired at 2026-01-01'),
    });
    s.setManifest(release(1, { expiresAt: 'next tuesday' }));
    await expect(ensureVmCacheSynced(o)).rejects.toMatchObject({ code: 'ERR_MANIFEST_INVALID' });
    expect(s.requests.every((r) => r.path === 'vm/manifest.json')).toBe(true);
    s.setManifest(release(1, { expiresAt: new Date(Date.now() + 86_400_000).toISOString() }));
    expect((await ensureVmCacheSynced(o)).downloaded).toHaveLength(1);
  });
});

describe('the warm path vouches only with the entry for the same key, arch and sha256', () => {
  it('another arch’s entry naming the new sha256 does not vouch for the bytes on disk', async () => {
    const s = await oneArtifactServer(30_000);
    const remote = (s.manifest.agents as Agents).openclaw!.tarballs.x64!;
    const root = await tempRoot();
    // On disk: other bytes of the same size at the key, and a cached manifest
    // whose x64 entry names those bytes while an arm64 entry (never synced
    // here) names the new sha256 at the same key.
    const stale = Buffer.alloc(remote.sizeBytes, 7);
    const file = path.join(root, 'cache', ...remote.key.split('/'));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, stale);
    await writeFile(
      getCachedManifestPath(root),
      `${JSON.stringify(
        {
          schemaVersion: 2,
          updatedAt: '2026-01-01T00:00:00.000Z',
          agents: {
            other: { version: '1', tarballs: { arm64: { ...remote } } },
            openclaw: {
              version: '0',
              tarballs: { x64: { key: remote.key, sha256: sha256(stale), sizeBytes: remote.sizeBytes } },
            },
          },
        },
        null,
        2,
      )}\n`,
    );
    const result = await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect(result.downloaded).toEqual([remote.key]);
    expect(sha256(await readFile(file))).toBe(remote.sha256);
  });

  it('an arch the last sync did not check is not vouched for, even with a matching entry', async () => {
    const { s, arm } = await bothArches();
    const root = await tempRoot();
    // A host-arch sync: the arm64 entry is in the cached manifest but was never downloaded.
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    const file = path.join(root, 'cache', ...arm.key.split('/'));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, Buffer.alloc(arm.sizeBytes, 1));
    const all = await ensureVmCacheSynced({
      root,
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      allArches: true,
    });
    expect(all.downloaded).toEqual([arm.key]);
    expect(sha256(await readFile(file))).toBe(arm.sha256);
    // Now both arches were checked: the next all-arches sync trusts both without a request.
    const requests = s.requests.length;
    expect(
      (await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64', allArches: true }))
        .skipped,
    ).toBe(true);
    expect(s.requests.length).toBe(requests + 1);
  });
});

describe('what the cached manifest vouches for does not outlive a replacement', () => {
  it('a file replaced under the manifest (which goes first) is not vouched for again when the same manifest returns', async () => {
    const { s, arm } = await bothArches();
    const root = await tempRoot();
    const o = { root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' };
    await ensureVmCacheSynced({ ...o, allArches: true });
    // Another manifest's verified bytes of the same size replace the arm64 file
    // (an import or a sync of it, cut short after the swap).
    const file = path.join(root, 'cache', ...arm.key.split('/'));
    await writeFile(`${file}.partial`, Buffer.alloc(arm.sizeBytes, 3));
    await installStaged(root, [file]);
    // The first manifest returns, synced for the host arch only...
    await ensureVmCacheSynced(o);
    // ...and an all-arches sync must not trust the replaced arm64 file.
    expect((await ensureVmCacheSynced({ ...o, allArches: true })).downloaded).toEqual([arm.key]);
    expect(sha256(await readFile(file))).toBe(arm.sha256);
  });
});

describe('ready means the tarballs are there', () => {
  it('ensureVmCacheAvailable with the manifest but a tarball gone (moved, deleted by hand) syncs it back', async () => {
    const s = await oneArtifactServer(20_000);
    const root = await tempRoot();
    const o = { root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' };
    const { downloaded } = await ensureVmCacheSynced(o);
    await rm(path.join(root, 'cache', ...downloaded[0]!.split('/')));
    expect((await ensureVmCacheAvailable(o)).downloaded).toEqual(downloaded);
    // Complete again: no request at all.
    const requests = s.requests.length;
    expect((await ensureVmCacheAvailable(o)).skipped).toBe(true);
    expect(s.requests.length).toBe(requests);
  });

  it('ensureVmCacheAvailable does not call an arch ready that the cached manifest does not vouch for', async () => {
    const { s, arm } = await bothArches();
    const root = await tempRoot();
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    // Bytes of the right size that no sync of arm64 ever checked.
    const file = path.join(root, 'cache', ...arm.key.split('/'));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, Buffer.alloc(arm.sizeBytes, 9));
    const ready = await ensureVmCacheAvailable({ root, manifestUrl: s.manifestUrl, rawHostArch: 'arm64' });
    expect(ready.downloaded).toEqual([arm.key]);
    expect(sha256(await readFile(file))).toBe(arm.sha256);
  });
});

describe('a read-only cache', () => {
  it('that is current syncs without a write; one that is not says it is read-only', async () => {
    const disk = await smallDisk(8);
    if (!disk) return;
    const s = await oneArtifactServer(40_000);
    const root = path.join(disk, 'root');
    const o = { root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' };
    await ensureVmCacheSynced(o);
    const before = await listFiles(root);
    execFileSync('mount', ['-o', 'remount,ro', disk]);
    try {
      expect(await ensureVmCacheSynced(o)).toMatchObject({ downloaded: [], skipped: true });
      expect(await listFiles(root)).toEqual(before);
      s.setManifest({ ...s.manifest, updatedAt: '2027-01-01T00:00:00.000Z' });
      await expect(ensureVmCacheSynced(o)).rejects.toMatchObject({
        code: 'ERR_IO',
        message: expect.stringContaining('is read-only and not current'),
      });
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', disk]);
    }
  });
});

describe('nesting', () => {
  it('an unknown field nested 200,000 levels deep is refused before any download', async () => {
    const s = await oneArtifactServer(10_000);
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const base = JSON.stringify(s.manifest, null, 2);
    const text = base.replace(/\n}$/, `,\n  "x": ${deep}\n}\n`);
    s.setManifest(text);
    const root = await tempRoot();
    await expect(
      ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' }),
    ).rejects.toMatchObject({
      code: 'ERR_MANIFEST_INVALID',
      message: expect.stringContaining('nested more than 64 levels'),
    });
    expect(s.requests.map((r) => r.path)).toEqual(['vm/manifest.json']);
    // Brackets inside strings are text, not nesting.
    s.setManifest(base.replace(/\n}$/, `,\n  "y": ${JSON.stringify(deep)}\n}\n`));
    expect(
      (await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' })).downloaded,
    ).toHaveLength(1);
  });
});

/** An onProgress option and a promise that resolves when the sync reaches `phase`. */
function phaseReached(phase: SyncProgress['phase']): {
  options: { onProgress: (p: SyncProgress) => void };
  reached: Promise<void>;
} {
  let resolve!: () => void;
  const reached = new Promise<void>((r) => {
    resolve = r;
  });
  return { options: { onProgress: (p) => p.phase === phase && resolve() }, reached };
}
