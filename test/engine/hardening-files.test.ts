// The cache's files on disk (issue #13): keys that collide with the cache's own
// layout or with each other, folders linked to another disk, a cache folder
// the engine did not make, bookkeeping files that are links, and Verify's
// order of removal.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  cp,
  link,
  lstat,
  mkdir,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  truncate,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  clearVmCache,
  ensureVmCacheAvailable,
  ensureVmCacheSynced,
  getCachedManifestPath,
  getVmCacheStatus,
  verifyVmCache,
} from '../../main/engine/index.js';
import { findKeyCollision, keyIdentity, unsafeKeyReason } from '../../main/engine/keys.js';
import { claimCacheDir } from '../../main/engine/ownership.js';
import { writePartialMeta } from '../../main/engine/partial.js';
import { PartialWriter } from '../../main/engine/partial-writer.js';
import { cacheMarkerPath } from '../../main/engine/paths.js';
import { pruneCache } from '../../main/engine/prune.js';
import type { ArtifactServer } from '../../server/index.js';
import { entryOf, keyOf, listFiles, oneArtifactServer, server, tempRoot } from '../helpers.js';

const tarballRequests = (s: ArtifactServer) => s.requests.filter((r) => r.path !== 'vm/manifest.json');

/** The server's manifest with the x64 tarball's key replaced, and more tarballs added. */
function withKeys(s: ArtifactServer, key: string, extra: Record<string, string> = {}) {
  const doc = structuredClone(s.manifest) as {
    agents: Record<string, { version: string; tarballs: Record<string, Record<string, unknown>> }>;
  };
  const entry = entryOf(s);
  doc.agents.openclaw!.tarballs.x64!.key = key;
  for (const [arch, k] of Object.entries(extra)) {
    doc.agents.openclaw!.tarballs[arch] = { key: k, sha256: entry.sha256, sizeBytes: entry.sizeBytes };
  }
  return doc;
}

describe('keys that collide with the cache layout', () => {
  it('refuses, one key at a time, what the cache itself uses', () => {
    const cases: Array<[string, string]> = [
      ['vm', 'folder that holds the manifest'],
      ['VM', 'folder that holds the manifest'],
      ['vm/manifest.json/x.tar.gz', 'under the manifest'],
      ['VM/Manifest.JSON.sig/x', 'under the manifest'],
      ['img/a.partial/x.tar.gz', 'reserved suffix .partial'],
      ['img/a.partial.json/b', 'reserved suffix .partial.json'],
      ['img/a.PARTIAL', 'reserved suffix .partial'],
      ['img/x.tmp/y', 'reserved suffix .tmp'],
      ['vm/COM\u00b9', 'Windows device'],
      ['vm/lpt\u00b2.txt', 'Windows device'],
      ['COM\u00b3.tar.gz', 'Windows device'],
    ];
    for (const [key, reason] of cases) expect(unsafeKeyReason(key), key).toContain(reason);
    for (const key of ['vm/images/a.tar.gz', 'vm/manifest.json.d/a.tar', 'vmx', 'img/partial/a', 'com4x']) {
      expect(unsafeKeyReason(key), key).toBeUndefined();
    }
  });

  it('refuses keys that are one file on macOS and Windows, or a folder of another key', () => {
    const nfc = 'vm/images/caf\u00e9.tar';
    const nfd = 'vm/images/cafe\u0301.tar';
    expect(findKeyCollision(['img/a', 'img/a/b'])).toEqual({
      key: 'img/a/b',
      reason: expect.stringContaining('to be a folder'),
    });
    expect(findKeyCollision(['img/a/b/c', 'x', 'IMG/A'])?.reason).toContain(
      '"IMG/A", another key\'s file, to be a folder',
    );
    expect(findKeyCollision(['vm/IMG/A.tar', 'vm/img/a.tar'])).toEqual({
      key: 'vm/img/a.tar',
      reason: expect.stringContaining('same file'),
    });
    expect(findKeyCollision([nfc, nfd])?.reason).toContain('same file');
    expect(findKeyCollision(['vm/\u03c3.tar', 'vm/\u03c2.tar'])?.reason).toContain('same file');
    // The same key twice is one file; neighbours that only share a prefix of characters are fine.
    expect(findKeyCollision(['img/a', 'img/a', 'img/ab', 'img/a-b/c', 'img/b/a'])).toBeUndefined();
    // Refused keys are left to unsafeKeyReason (another arch may hold placeholders).
    expect(findKeyCollision(['vm', 'vm/images/a.tar', 42])).toBeUndefined();
    expect(keyIdentity(nfd)).toBe(keyIdentity(nfc.toUpperCase()));
  });

  it('a key "vm" or under a partial name is refused before any tarball request, nothing written', async () => {
    for (const key of ['vm', 'vm/images/a.tar.gz.partial/x', 'vm/images/COM\u00b9']) {
      const s = await oneArtifactServer();
      const root = await tempRoot();
      s.setManifest(withKeys(s, key));
      await expect(
        ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' }),
      ).rejects.toMatchObject({ code: 'ERR_UNSAFE_KEY' });
      expect(tarballRequests(s), key).toEqual([]);
      expect(await listFiles(path.join(root, 'cache')), key).toEqual([]);
    }
  });

  // Needs findKeyCollision called in selectArtifacts (manifest.ts) over every entry, any arch.
  it('keys that collide with each other, in any arch, are refused before any tarball request', async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['vm/images/a', { arm64: 'vm/images/a/b.tar.gz' }],
      ['vm/images/a.tar.gz', { arm64: 'vm/IMAGES/A.tar.gz' }],
    ];
    for (const [key, extra] of cases) {
      const s = await oneArtifactServer();
      const root = await tempRoot();
      s.setManifest(withKeys(s, key, extra));
      await expect(
        ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' }),
      ).rejects.toMatchObject({ code: 'ERR_UNSAFE_KEY' });
      expect(tarballRequests(s), key).toEqual([]);
    }
  });

  it('prune keeps a file whose name folds to a key the manifest names (case, NFC/NFD)', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    const key = keyOf(s);
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    // What a case-insensitive disk shows for the key's file: the same file, spelled otherwise.
    const spelled = path.join(root, 'cache', path.dirname(key), path.basename(key).toUpperCase());
    const decomposed = path.join(root, 'cache', 'vm', 'images', 'cafe\u0301.tar');
    await writeFile(spelled, 'same file, other case');
    await writeFile(decomposed, 'same file, other normal form');
    await pruneCache(path.join(root, 'cache'), new Set([key, 'vm/images/caf\u00e9.tar']), new Set());
    expect(existsSync(spelled)).toBe(true);
    expect(existsSync(decomposed)).toBe(true);
  });
});

/** A synced root whose `vm/images` folder was moved to another disk and linked back. */
async function linkedImages() {
  const s = await server({
    artifacts: [
      { agent: 'a', version: '1', arch: 'x64', sizeBytes: 100_000 },
      { agent: 'b', version: '1', arch: 'x64', sizeBytes: 120_000 },
    ],
  });
  const root = await tempRoot();
  const otherDisk = await tempRoot();
  await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
  const images = path.join(root, 'cache', 'vm', 'images');
  const moved = path.join(otherDisk, 'images');
  await rename(images, moved);
  await symlink(moved, images, 'dir');
  return { s, root, images, moved };
}

describe('folders linked to another disk', () => {
  it('a sync keeps the link and the tarballs behind it; the cache stays ready and verifies', async () => {
    const { s, root, images, moved } = await linkedImages();
    const o = { root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' };
    expect(await ensureVmCacheSynced(o)).toMatchObject({ downloaded: [], skipped: true });
    expect((await lstat(images)).isSymbolicLink()).toBe(true);
    expect(await readlink(images)).toBe(moved);
    expect((await listFiles(moved)).sort()).toEqual(
      [keyOf(s, 'a'), keyOf(s, 'b')].map((k) => path.basename(k)).sort(),
    );
    expect((await ensureVmCacheAvailable(o)).skipped).toBe(true);
    expect((await verifyVmCache(o)).ok).toBe(true);
  });

  it('a new version is written through the link and the old one pruned behind it, the link kept', async () => {
    const { s, root, images, moved } = await linkedImages();
    const doc = structuredClone(s.manifest) as { agents: Record<string, unknown> };
    delete doc.agents.b;
    s.setManifest(doc);
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect((await lstat(images)).isSymbolicLink()).toBe(true);
    expect(await listFiles(moved)).toEqual([path.basename(keyOf(s, 'a'))]);
  });

  it('the user’s own files behind the link survive prune and clear; only the cache’s files go', async () => {
    const { s, root, moved } = await linkedImages();
    await writeFile(path.join(moved, 'thesis.docx'), 'not the cache’s');
    await mkdir(path.join(moved, 'photos'));
    await writeFile(path.join(moved, 'photos', 'a.jpg'), 'nor this');
    const doc = structuredClone(s.manifest) as { agents: Record<string, unknown> };
    delete doc.agents.b;
    s.setManifest(doc);
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    // b's old tarball was the cache's: pruned. The rest is the user's.
    expect(await listFiles(moved)).toEqual([path.basename(keyOf(s, 'a')), 'photos/a.jpg', 'thesis.docx']);
    const status = await getVmCacheStatus({ root });
    const manifestSize = (await readFile(getCachedManifestPath(root))).length;
    expect(status.sizeOnDiskBytes).toBe(100_000 + manifestSize);
    expect(await clearVmCache({ root })).toEqual({ removedBytes: status.sizeOnDiskBytes });
    expect(await listFiles(moved)).toEqual(['photos/a.jpg', 'thesis.docx']);
  });

  it('the cache’s tarballs behind the link stay its own after verify removed the manifest: counted, and cleared', async () => {
    const { s, root, moved } = await linkedImages();
    await writeFile(path.join(moved, 'thesis.docx'), 'the user’s');
    // A corrupt tarball: verify removes it and the manifest.
    await writeFile(path.join(moved, path.basename(keyOf(s, 'b'))), Buffer.alloc(120_000, 1));
    expect((await verifyVmCache({ root, rawHostArch: 'x64' })).ok).toBe(false);
    expect(existsSync(getCachedManifestPath(root))).toBe(false);
    expect((await getVmCacheStatus({ root })).sizeOnDiskBytes).toBe(100_000);
    expect(await clearVmCache({ root })).toEqual({ removedBytes: 100_000 });
    expect(await listFiles(moved)).toEqual(['thesis.docx']);
  });

  it('a user’s own `.partial` and temp-looking files behind the link are theirs, not the cache’s', async () => {
    const { s, root, moved } = await linkedImages();
    const theirs = ['holiday.mkv.partial', 'holiday.mkv.partial.json', '.thesis.docx.tmp'];
    for (const name of theirs) await writeFile(path.join(moved, name), 'the user’s');
    const doc = structuredClone(s.manifest) as { agents: Record<string, unknown> };
    delete doc.agents.b;
    s.setManifest(doc);
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect(await listFiles(moved)).toEqual([path.basename(keyOf(s, 'a')), ...theirs].sort());
    await clearVmCache({ root });
    expect(await listFiles(moved)).toEqual([...theirs].sort());
  });

  it('a link back to an ancestor neither loops nor is removed', async () => {
    const { s, root, moved } = await linkedImages();
    const loop = path.join(moved, 'loop');
    await symlink(path.join(root, 'cache'), loop, 'dir');
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect((await lstat(loop)).isSymbolicLink()).toBe(true);
    const status = await getVmCacheStatus({ root });
    const manifestSize = (await readFile(getCachedManifestPath(root))).length;
    expect(status.sizeOnDiskBytes).toBe(100_000 + 120_000 + manifestSize);
  });

  it('size on disk counts the files behind the link; clear frees them and keeps the link', async () => {
    const { root, images, moved } = await linkedImages();
    const status = await getVmCacheStatus({ root });
    const manifestSize = (await readFile(getCachedManifestPath(root))).length;
    expect(status.sizeOnDiskBytes).toBe(100_000 + 120_000 + manifestSize);
    expect(await clearVmCache({ root })).toEqual({ removedBytes: status.sizeOnDiskBytes });
    expect(await listFiles(moved)).toEqual([]);
    expect((await lstat(images)).isSymbolicLink()).toBe(true);
    expect((await getVmCacheStatus({ root })).sizeOnDiskBytes).toBe(0);
  });

  it('a cache folder that is itself a link: clear reports only the bytes it freed, and frees them', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    const target = path.join(await tempRoot(), 'cache');
    await mkdir(target);
    await symlink(target, path.join(root, 'cache'), 'dir');
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    const before = (await getVmCacheStatus({ root })).sizeOnDiskBytes;
    expect(before).toBeGreaterThan(300_000);
    expect(await clearVmCache({ root })).toEqual({ removedBytes: before });
    expect(await listFiles(target)).toEqual([]);
    expect((await lstat(path.join(root, 'cache'))).isSymbolicLink()).toBe(true);
    // Still usable: the next sync fills the linked folder again.
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect(await listFiles(target)).toEqual([keyOf(s), 'vm/manifest.json'].sort());
  });
});

/** A root whose cache folder holds files the engine did not make, like /var/cache. */
async function foreignRoot() {
  const root = await tempRoot();
  const files = ['apt/pkgcache.bin', 'fontconfig/x.cache-8', 'vm/notes.txt'];
  for (const rel of files) {
    const file = path.join(root, 'cache', rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `not ours: ${rel}\n`);
  }
  const expected = files.map((f) => f).sort();
  return { root, cache: path.join(root, 'cache'), expected };
}

describe('a cache folder the engine did not make', () => {
  it('a root copied elsewhere (a new disk, a restored backup) is still the cache’s own', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    const copy = path.join(await tempRoot(), 'copied-root');
    await cp(root, copy, { recursive: true });
    await writeFile(path.join(copy, 'cache', '.DS_Store'), 'finder was here');
    expect(
      (await ensureVmCacheSynced({ root: copy, manifestUrl: s.manifestUrl, rawHostArch: 'x64' })).skipped,
    ).toBe(true);
    expect((await clearVmCache({ root: copy })).removedBytes).toBeGreaterThan(0);
  });

  it('a <root>/cache link re-pointed at another folder is judged afresh: sync and clear refuse, the files stay', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    const first = path.join(await tempRoot(), 'cache');
    await mkdir(first);
    await symlink(first, path.join(root, 'cache'), 'dir');
    const o = { root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' };
    await ensureVmCacheSynced(o);
    // The link now points at a folder of the user's.
    const other = await tempRoot();
    await writeFile(path.join(other, 'user-file.txt'), 'mine');
    await rm(path.join(root, 'cache'));
    await symlink(other, path.join(root, 'cache'), 'dir');
    await expect(ensureVmCacheSynced(o)).rejects.toMatchObject({ code: 'ERR_CACHE_LAYOUT' });
    await expect(clearVmCache({ root })).rejects.toMatchObject({ code: 'ERR_CACHE_LAYOUT' });
    expect(await listFiles(other)).toEqual(['user-file.txt']);
    // Pointed back at the cache's own folder, all is well again.
    await rm(path.join(root, 'cache'));
    await symlink(first, path.join(root, 'cache'), 'dir');
    expect((await ensureVmCacheSynced(o)).skipped).toBe(true);
  });

  it('clear refuses, naming the folder, and deletes nothing', async () => {
    const { root, cache, expected } = await foreignRoot();
    await expect(clearVmCache({ root })).rejects.toMatchObject({
      code: 'ERR_CACHE_LAYOUT',
      message: expect.stringContaining(cache),
    });
    expect(await listFiles(cache)).toEqual(expected);
  });

  it('a sync into it deletes none of its files', async () => {
    const { root, cache, expected } = await foreignRoot();
    const s = await oneArtifactServer();
    await expect(
      ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' }),
    ).rejects.toMatchObject({ code: 'ERR_CACHE_LAYOUT' });
    expect(await listFiles(cache)).toEqual(expected);
  });

  // Needs claimCacheDir called in sync.ts under the lock, before planning.
  it('a sync into it is refused before any tarball request', async () => {
    const { root, cache, expected } = await foreignRoot();
    const s = await oneArtifactServer();
    await expect(
      ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' }),
    ).rejects.toMatchObject({ code: 'ERR_CACHE_LAYOUT', message: expect.stringContaining(cache) });
    expect(tarballRequests(s)).toEqual([]);
    expect(await listFiles(cache)).toEqual(expected);
  });

  it('prune refuses and deletes nothing', async () => {
    const { cache, expected } = await foreignRoot();
    await expect(pruneCache(cache, new Set(), new Set())).rejects.toMatchObject({ code: 'ERR_CACHE_LAYOUT' });
    expect(await listFiles(cache)).toEqual(expected);
  });

  it('claimCacheDir creates or adopts what is ours and refuses the rest, writing nothing there', async () => {
    // Absent: created, with the marker.
    const fresh = await tempRoot();
    await claimCacheDir(fresh);
    expect((await lstat(path.join(fresh, 'cache'))).isDirectory()).toBe(true);
    expect(existsSync(cacheMarkerPath(fresh))).toBe(true);

    // An earlier version's cache (no marker): adopted, by its layout or by its last-sync record.
    const s = await oneArtifactServer();
    for (const keepRecord of [false, true]) {
      const old = await tempRoot();
      await ensureVmCacheSynced({ root: old, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
      await rm(cacheMarkerPath(old), { force: true });
      if (!keepRecord) await rm(path.join(old, 'state', 'last-sync.json'));
      const partial = path.join(old, 'cache', 'vm', 'images', 'old.tar.gz');
      await writeFile(`${partial}.partial`, 'kept bytes');
      await writePartialMeta(partial, { sha256: 'a'.repeat(64), sizeBytes: 10, etag: '"e"' });
      await claimCacheDir(old);
      expect(existsSync(cacheMarkerPath(old))).toBe(true);
    }

    // Anything else: refused, naming the folder, nothing written.
    const { root, cache, expected } = await foreignRoot();
    await expect(claimCacheDir(root)).rejects.toMatchObject({
      code: 'ERR_CACHE_LAYOUT',
      message: expect.stringContaining(cache),
    });
    expect(await listFiles(root)).toEqual(expected.map((f) => `cache/${f}`));
  });
});

describe('bookkeeping files that are links', () => {
  async function outside(text: string) {
    const file = path.join(await tempRoot(), 'outside.bin');
    await writeFile(file, text);
    return file;
  }

  it('the sidecar is written as a new file, never through a link in its place', async () => {
    const target = await outside('precious\n');
    const finalPath = path.join(await tempRoot(), 'x.tar.gz');
    await symlink(target, `${finalPath}.partial.json`);
    await writePartialMeta(finalPath, { sha256: 'a'.repeat(64), sizeBytes: 1, etag: '"e"' });
    expect(await readFile(target, 'utf8')).toBe('precious\n');
    expect((await lstat(`${finalPath}.partial.json`)).isFile()).toBe(true);
  });

  it('a fresh partial is never opened through a symlink or a hard link', async () => {
    for (const make of [symlink, link]) {
      const target = await outside('precious\n');
      const partial = path.join(await tempRoot(), 'x.tar.gz.partial');
      await make(target, partial);
      const opened = await PartialWriter.open(partial, 0).then(
        (w) => w.abandon(),
        (err: unknown) => err,
      );
      expect(await readFile(target, 'utf8'), make.name).toBe('precious\n');
      expect(opened, `${make.name}: refused`).toBeInstanceOf(Error);
    }
  });
});

describe('verify', () => {
  it('removes the manifest before a corrupt tarball: it never vouches for a missing or bad file', async () => {
    const s = await server({
      artifacts: [
        { agent: 'a', version: '1', arch: 'x64', sizeBytes: 100_000 },
        { agent: 'b', version: '1', arch: 'x64', sizeBytes: 100_000 },
      ],
    });
    const root = await tempRoot();
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    // a is corrupt; b is made large (sparse), so verify is still hashing it after it judged a.
    const big = 256 << 20;
    const doc = structuredClone(s.manifest) as {
      agents: Record<string, { tarballs: { x64: { sizeBytes: number } } }>;
    };
    doc.agents.b!.tarballs.x64.sizeBytes = big;
    await writeFile(getCachedManifestPath(root), `${JSON.stringify(doc, null, 2)}\n`);
    const fileA = path.join(root, 'cache', keyOf(s, 'a'));
    await truncate(path.join(root, 'cache', keyOf(s, 'b')), big);
    const bytes = await readFile(fileA);
    bytes[7] = (bytes[7] ?? 0) ^ 0xff;
    await writeFile(fileA, bytes);

    const cancel = new AbortController();
    const verifying = verifyVmCache({ root, rawHostArch: 'x64', signal: cancel.signal }).catch(() => {});
    while (existsSync(fileA) && existsSync(getCachedManifestPath(root))) await nextTurn();
    // Whichever went first, the manifest is not left naming a corrupt or removed tarball.
    const manifestThere = existsSync(getCachedManifestPath(root));
    cancel.abort();
    await verifying;
    expect(manifestThere).toBe(false);
  });
});

/** A folder laid out like the CDN with one tarball at `key`, served on 127.0.0.1. */
async function mirrorOf(key: string, updatedAt: string) {
  const dir = await tempRoot();
  const body = Buffer.from(`tarball at ${key}\n`.repeat(100));
  await mkdir(path.dirname(path.join(dir, key)), { recursive: true });
  await writeFile(path.join(dir, key), body);
  const sha256 = createHash('sha256').update(body).digest('hex');
  const doc = {
    schemaVersion: 2,
    updatedAt,
    agents: { a: { version: '1', tarballs: { x64: { key, sha256, sizeBytes: body.length } } } },
  };
  await writeFile(path.join(dir, 'vm', 'manifest.json'), `${JSON.stringify(doc, null, 2)}\n`);
  return server({ dir });
}

describe('a new manifest that turns an old key’s file into a folder, or back', () => {
  it('the old file or folder is cleared out of the way (it was the cache’s), both ways', async () => {
    const root = await tempRoot();
    const file = await mirrorOf('vm/images/a', '2026-10-01T00:00:00.000Z');
    const folder = await mirrorOf('vm/images/a/b.tar.gz', '2026-10-02T00:00:00.000Z');
    const sync = (s: ArtifactServer) =>
      ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    await sync(file);
    expect((await sync(folder)).downloaded).toEqual(['vm/images/a/b.tar.gz']);
    expect((await sync(file)).downloaded).toEqual(['vm/images/a']);
    expect(await listFiles(path.join(root, 'cache'))).toEqual(['vm/images/a', 'vm/manifest.json']);
  });

  it('without the cached manifest (verify removed it), the cache’s own file in the way is still cleared', async () => {
    const root = await tempRoot();
    const file = await mirrorOf('vm/images/a', '2026-10-01T00:00:00.000Z');
    const folder = await mirrorOf('vm/images/a/b.tar.gz', '2026-10-02T00:00:00.000Z');
    await ensureVmCacheSynced({ root, manifestUrl: file.manifestUrl, rawHostArch: 'x64' });
    await rm(getCachedManifestPath(root));
    expect(
      (await ensureVmCacheSynced({ root, manifestUrl: folder.manifestUrl, rawHostArch: 'x64' })).downloaded,
    ).toEqual(['vm/images/a/b.tar.gz']);
  });

  it('behind a folder link, something in the way that the cache did not put there is refused, named, and kept', async () => {
    const root = await tempRoot();
    const folder = await mirrorOf('vm/images/a/b.tar.gz', '2026-10-02T00:00:00.000Z');
    // The images live on another disk, where the user keeps a file named `a`.
    await claimCacheDir(root);
    const otherDisk = await tempRoot();
    await writeFile(path.join(otherDisk, 'a'), 'a file of the user’s');
    await mkdir(path.join(root, 'cache', 'vm'), { recursive: true });
    await symlink(otherDisk, path.join(root, 'cache', 'vm', 'images'), 'dir');
    await expect(
      ensureVmCacheSynced({ root, manifestUrl: folder.manifestUrl, rawHostArch: 'x64' }),
    ).rejects.toMatchObject({ code: 'ERR_CACHE_LAYOUT', message: expect.stringContaining('is in the way') });
    expect(await readFile(path.join(root, 'cache', 'vm', 'images', 'a'), 'utf8')).toBe(
      'a file of the user’s',
    );
    expect(folder.requests.map((r) => r.path)).toEqual(['vm/manifest.json']);
  });
});
