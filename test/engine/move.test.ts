// "Move cache to…" (main/engine/move.ts): copy, verify, switch, then delete;
// what it refuses; a bad copy, a failing switch and a cancel leave the old
// root as it was; partials, links and odd files; a full disk at the new place.
// The crash guarantee (SIGKILL at each step) is test/reliability/move-crash.test.ts.
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ensureVmCacheAvailable,
  ensureVmCacheSynced,
  getCachedManifestPath,
  type MoveProgress,
  type MoveVmCacheOptions,
  moveVmCache,
  removeMovedVmCache,
  verifyVmCache,
} from '../../main/engine/index.js';
import { lockPath } from '../../main/engine/local-state.js';
import { acquireLock } from '../../main/engine/lock.js';
import { flipByte, snapshot } from '../cli/helpers.js';
import { keyOf, listFiles, server, smallDisk, tempRoot } from '../helpers.js';

const MiB = 1 << 20;

/** A root synced from the artifact server (two x64 tarballs; the arm64 one is not this host's). */
async function synced(sizes: { a: number; b: number } = { a: 300_000, b: 200_000 }) {
  const s = await server({
    artifacts: [
      { agent: 'a', version: '1', arch: 'x64', sizeBytes: sizes.a },
      { agent: 'b', version: '1', arch: 'x64', sizeBytes: sizes.b },
      { agent: 'b', version: '1', arch: 'arm64', sizeBytes: 100_000 },
    ],
  });
  const base = await tempRoot();
  const from = path.join(base, 'old-root');
  const sync = (root: string) =>
    ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
  await sync(from);
  return { s, base, from, to: path.join(base, 'other-disk', 'vm-cache'), sync };
}

const verifyX64 = (root: string) => verifyVmCache({ root, rawHostArch: 'x64' });

/** Everything under `root` (cache and state), by sha256. */
const everything = (root: string) => snapshot(root);

async function refusal(o: MoveVmCacheOptions) {
  const switched: string[] = [];
  const err = await moveVmCache({
    ...o,
    switchRoot: async (to) => {
      switched.push(to);
    },
  }).catch((e: unknown) => e);
  expect(switched).toEqual([]);
  return err as { code: string; message: string };
}

describe('moveVmCache', () => {
  it('copies, verifies, switches, then deletes: the new root holds the same cache, the old one is gone', async () => {
    const { s, from, to } = await synced();
    const cacheBefore = await snapshot(path.join(from, 'cache'));
    const steps: MoveProgress['step'][] = [];
    const seen: string[] = [];
    const result = await moveVmCache({
      from,
      to,
      onProgress: (p) => {
        if (steps.at(-1) !== p.step) steps.push(p.step);
        expect(p.doneBytes).toBeLessThanOrEqual(p.totalBytes);
      },
      switchRoot: async (root) => {
        seen.push(root);
        // At the switch both places hold the whole cache, and nothing is locked at the new one.
        expect(await verifyX64(root)).toMatchObject({ ok: true });
        expect(await snapshot(path.join(from, 'cache'))).toEqual(cacheBefore);
      },
    });
    expect(seen).toEqual([to]);
    expect(steps).toEqual(['copying', 'verifying', 'switching', 'removing']);
    expect(result).toMatchObject({ root: to, files: expect.any(Number) });
    expect(result.leftover).toBeUndefined();
    expect(result.movedBytes).toBeGreaterThan(500_000);
    expect(await snapshot(path.join(to, 'cache'))).toEqual(cacheBefore);
    expect(await listFiles(path.join(to, 'cache'))).toEqual(
      [keyOf(s, 'a'), keyOf(s, 'b'), 'vm/manifest.json'].sort(),
    );
    // The records that keep the cache trusted came along; the move's own staging and locks did not.
    expect(await readdir(path.join(to, 'state'))).toEqual(
      expect.arrayContaining([
        'cache-owner.json',
        'cached-manifest.json',
        'installed-keys.json',
        'last-sync.json',
        'moved-from.json',
        'trusted-manifests.json',
      ]),
    );
    expect((await readdir(to)).sort()).toEqual(['cache', 'state']);
    expect(existsSync(lockPath(to))).toBe(false);
    expect(existsSync(from)).toBe(false);
    expect(await verifyX64(to)).toEqual({
      ok: true,
      entries: [
        { key: keyOf(s, 'a'), state: 'ok' },
        { key: keyOf(s, 'b'), state: 'ok' },
      ],
    });
  });

  it('the moved cache is current and still trusted: a sync downloads nothing, and an older manifest is refused', async () => {
    const { s, from, to, sync } = await synced();
    await moveVmCache({ from, to });
    const before = s.requests.length;
    await expect(ensureVmCacheAvailable({ root: to, rawHostArch: 'x64' })).resolves.toMatchObject({
      skipped: true,
    });
    expect(s.requests.length).toBe(before);
    await expect(sync(to)).resolves.toEqual({
      downloaded: [],
      manifestPath: getCachedManifestPath(to),
      skipped: true,
    });
    expect(s.requests.slice(before).map((r) => r.path)).toEqual(['vm/manifest.json']);
    // The rollback record moved too: a replayed older manifest is refused at the new root.
    s.setManifest({ ...s.manifest, updatedAt: '2001-01-01T00:00:00.000Z' });
    await expect(sync(to)).rejects.toMatchObject({ code: 'ERR_ROLLBACK' });
  });

  it('an empty folder is a destination; a file of the user beside the old cache keeps the old root', async () => {
    const { from, to } = await synced();
    await mkdir(to, { recursive: true });
    await writeFile(path.join(from, 'notes.txt'), 'mine');
    await moveVmCache({ from, to });
    expect(await verifyX64(to)).toMatchObject({ ok: true });
    expect(await readdir(from)).toEqual(['notes.txt']);
  });

  describe('refuses, changing nothing', () => {
    it('the same folder, or one inside the other (also through a link)', async () => {
      const { base, from } = await synced();
      const before = await everything(from);
      await symlink(from, path.join(base, 'alias'));
      const cases: Array<[string, RegExp]> = [
        [from, /that is the folder it is in already/],
        [path.join(base, 'alias'), /that is the folder it is in already/],
        [path.join(from, 'sub'), /lies inside the cache's folder/],
        [path.join(base, 'alias', 'cache', 'moved'), /lies inside the cache's folder/],
        [base, /the cache's folder lies inside/],
      ];
      for (const [to, message] of cases) {
        const err = await refusal({ from, to });
        expect(err).toMatchObject({ code: 'ERR_CACHE_LAYOUT' });
        expect(err.message).toMatch(message);
        expect(err.message).toContain('nothing was moved');
      }
      expect(await everything(from)).toEqual(before);
      expect(existsSync(path.join(from, 'sub'))).toBe(false);
    });

    it('a folder that is not empty, a file, a link', async () => {
      const { base, from, to } = await synced();
      const before = await everything(from);
      await mkdir(to, { recursive: true });
      await writeFile(path.join(to, 'photo.jpg'), 'user data');
      await writeFile(path.join(base, 'a-file'), 'x');
      await symlink(path.join(base, 'elsewhere'), path.join(base, 'a-link'));
      const cases: Array<[string, RegExp]> = [
        [
          to,
          /the folder is not empty \(it holds .*photo\.jpg\); choose an empty or new folder, such as .*vm-cache/,
        ],
        [path.join(base, 'a-file'), /it is a file, not a folder/],
        [path.join(base, 'a-link'), /it is a link/],
      ];
      for (const [target, message] of cases) {
        const err = await refusal({ from, to: target });
        expect(err).toMatchObject({ code: 'ERR_CACHE_LAYOUT' });
        expect(err.message).toMatch(message);
      }
      expect(await everything(from)).toEqual(before);
      expect(await readdir(to)).toEqual(['photo.jpg']);
    });

    it('a cache folder the engine did not make', async () => {
      const base = await tempRoot();
      const from = path.join(base, 'root');
      await mkdir(path.join(from, 'cache'), { recursive: true });
      await writeFile(path.join(from, 'cache', 'thesis.pdf'), 'user data');
      const err = await refusal({ from, to: path.join(base, 'new') });
      expect(err).toMatchObject({ code: 'ERR_CACHE_LAYOUT' });
      expect(err.message).toMatch(/refusing to move .*thesis\.pdf.*nothing was moved/);
      expect(await listFiles(from)).toEqual(['cache/thesis.pdf']);
      expect(existsSync(path.join(base, 'new'))).toBe(false);
    });
  });

  it('nothing cached: the move only switches (0 bytes), and the new root then syncs', async () => {
    const { s } = await synced();
    const base = await tempRoot();
    const from = path.join(base, 'never-synced');
    const to = path.join(base, 'new');
    const seen: string[] = [];
    const result = await moveVmCache({ from, to, switchRoot: async (r) => void seen.push(r) });
    expect(result).toEqual({ root: to, movedBytes: 0, files: 0 });
    expect(seen).toEqual([to]);
    expect(existsSync(from)).toBe(false);
    await expect(
      ensureVmCacheSynced({ root: to, manifestUrl: s.manifestUrl, rawHostArch: 'x64' }),
    ).resolves.toMatchObject({ downloaded: [keyOf(s, 'a'), keyOf(s, 'b')] });
  });

  it('a tarball damaged in the old cache: the verify refuses the copy, nothing moved', async () => {
    const { s, from, to } = await synced();
    await flipByte(path.join(from, 'cache', keyOf(s, 'b')), 1000);
    const before = await everything(from);
    const err = await refusal({ from, to });
    expect(err).toMatchObject({ code: 'ERR_SHA256_MISMATCH' });
    expect(err.message).toMatch(/sha256 mismatch for .*-1-x64\.tar\.gz in the cache at .*old-root/);
    expect(err.message).toContain('repair it first');
    expect(await everything(from)).toEqual(before);
    expect(existsSync(to)).toBe(false);
  });

  it('a byte changed in the copy on the new disk: the verify (reading the copy back) refuses it, nothing moved', async () => {
    const { s, from, to } = await synced();
    const before = await everything(from);
    let flipped = '';
    const err = await refusal({
      from,
      to,
      onProgress: (p) => {
        // The verify starts: damage the copy behind its back.
        if (p.step !== 'verifying' || flipped) return;
        const staging = readdirSync(to).find((n) => n.startsWith('.moving-'))!;
        flipped = path.join(to, staging, 'cache', keyOf(s, 'a'));
        const fd = openSync(flipped, 'r+');
        writeSync(fd, Buffer.from([0x5a ^ readFileSync(flipped)[4096]!]), 0, 1, 4096);
        closeSync(fd);
      },
    });
    expect(flipped).not.toBe('');
    expect(err).toMatchObject({ code: 'ERR_SHA256_MISMATCH' });
    expect(err.message).toMatch(/the copy of cache\/vm\/images\/a-1-x64\.tar\.gz at .* reads back as/);
    expect(err.message).toContain('the cache is still at');
    expect(await everything(from)).toEqual(before);
    expect(existsSync(to)).toBe(false);
  });

  it('switchRoot throwing: nothing deleted, the copy removed again (an empty folder that was there stays)', async () => {
    for (const toExisted of [false, true]) {
      const { from, to } = await synced();
      if (toExisted) await mkdir(to, { recursive: true });
      const before = await everything(from);
      const boom = new Error('the settings file is read-only');
      const err = await moveVmCache({
        from,
        to,
        switchRoot: async () => {
          throw boom;
        },
      }).catch((e: unknown) => e);
      expect(err).toBe(boom);
      expect(await everything(from)).toEqual(before);
      expect(await verifyX64(from)).toMatchObject({ ok: true });
      if (toExisted) expect(await readdir(to)).toEqual([]);
      else expect(existsSync(to)).toBe(false);
    }
  });

  it('cancel at any step before the switch: the copy removed, the old root untouched', async () => {
    for (const step of ['copying', 'verifying', 'switching'] as const) {
      const { from, to } = await synced();
      const before = await everything(from);
      const controller = new AbortController();
      const err = await refusal({
        from,
        to,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.step === step) controller.abort();
        },
      });
      expect(err, step).toMatchObject({ code: 'ERR_ABORTED' });
      expect(err.message).toMatch(/move cancelled; nothing was moved and the cache is still at .*old-root/);
      expect(await everything(from)).toEqual(before);
      expect(existsSync(to), step).toBe(false);
    }
    const { from, to } = await synced();
    const controller = new AbortController();
    controller.abort();
    await expect(moveVmCache({ from, to, signal: controller.signal })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    });
  });

  it('holds the lock of both roots while it copies', async () => {
    const { from, to } = await synced({ a: 3 * MiB, b: 200_000 });
    const probes: Array<Promise<string>> = [];
    const probe = (root: string) =>
      acquireLock(lockPath(root), { timeoutMs: 0 }).then(
        async (lock) => {
          await lock.release();
          return 'free';
        },
        (e: { code?: string }) => e.code ?? 'error',
      );
    await moveVmCache({
      from,
      to,
      onProgress: (p) => {
        if (p.step === 'copying' && probes.length === 0) probes.push(probe(from), probe(to));
      },
    });
    expect(await Promise.all(probes)).toEqual(['ERR_LOCK', 'ERR_LOCK']);
  });

  it('a dead move’s staging folder in the destination is removed, and the move goes on', async () => {
    const { from, to } = await synced();
    const stale = path.join(to, '.moving-0123456789abcdef');
    await mkdir(path.join(stale, 'cache', 'vm'), { recursive: true });
    await writeFile(path.join(stale, 'cache', 'vm', 'manifest.json'), '{"half":');
    await moveVmCache({ from, to });
    expect((await readdir(to)).sort()).toEqual(['cache', 'state']);
    expect(await verifyX64(to)).toMatchObject({ ok: true });
  });

  it('a partial download moves with its sidecar, and the new root resumes it', async () => {
    const s = await server({
      artifacts: [
        { agent: 'a', version: '1', arch: 'x64', sizeBytes: 300_000 },
        { agent: 'c', version: '1', arch: 'x64', sizeBytes: 1 * MiB },
      ],
    });
    const base = await tempRoot();
    const from = path.join(base, 'old-root');
    const to = path.join(base, 'new-root');
    const o = { manifestUrl: s.manifestUrl, rawHostArch: 'x64', concurrency: 1, connections: 1 };
    const keyC = keyOf(s, 'c');
    s.setFault(keyC, { resetAtByte: 600_000, times: 1 });
    await expect(ensureVmCacheSynced({ ...o, root: from })).rejects.toMatchObject({ code: 'ERR_NETWORK' });
    const cut = (await lstat(path.join(from, 'cache', `${keyC}.partial`))).size;
    expect(cut).toBeGreaterThan(0);
    await moveVmCache({ from, to });
    expect(await listFiles(path.join(to, 'cache'))).toEqual(
      [keyOf(s, 'a'), `${keyC}.partial`, `${keyC}.partial.json`].sort(),
    );
    const served = s.bytesServed(keyC);
    await expect(ensureVmCacheSynced({ ...o, root: to })).resolves.toMatchObject({ downloaded: [keyC] });
    expect(s.bytesServed(keyC) - served).toBe(1 * MiB - cut);
    expect(s.requests.filter((r) => r.path === keyOf(s, 'a'))).toHaveLength(1);
  });

  it('never follows a link nor opens a FIFO at a file’s place; what they point to is left alone', async () => {
    const { s, base, from, to } = await synced();
    const images = path.join(from, 'cache', 'vm', 'images');
    const keyA = path.basename(keyOf(s, 'a'));
    const keyB = path.basename(keyOf(s, 'b'));
    // Tarball b moved out and linked back; a link and a FIFO where partials go.
    const outside = path.join(base, 'outside');
    await mkdir(outside);
    await rename(path.join(images, keyB), path.join(outside, keyB));
    await symlink(path.join(outside, keyB), path.join(images, keyB));
    await writeFile(path.join(outside, 'secret'), 'not the cache’s');
    await symlink(path.join(outside, 'secret'), path.join(images, `${keyA}.partial`));
    await writeFile(path.join(images, `${keyA}.partial.json`), '{"sha256":"00","sizeBytes":1}');
    execFileSync('mkfifo', [path.join(images, `${keyB}.partial`)]);
    await writeFile(path.join(images, `${keyB}.partial.json`), '{"sha256":"00","sizeBytes":1}');
    const outsideBefore = await snapshot(outside);

    await moveVmCache({ from, to });
    expect(await listFiles(path.join(to, 'cache'))).toEqual([keyOf(s, 'a'), 'vm/manifest.json'].sort());
    expect(await snapshot(outside)).toEqual(outsideBefore);
    // The new root fetches b again: only what is provably the cache's bytes moved.
    await expect(
      ensureVmCacheSynced({ root: to, manifestUrl: s.manifestUrl, rawHostArch: 'x64' }),
    ).resolves.toMatchObject({ downloaded: [keyOf(s, 'b')] });
  });

  it('a folder linked to another disk: its tarballs are copied as files, the user’s files there stay', async () => {
    const { base, from, to } = await synced();
    const images = path.join(from, 'cache', 'vm', 'images');
    const disk = path.join(base, 'second-disk');
    await mkdir(disk);
    await rename(images, path.join(disk, 'images'));
    await symlink(path.join(disk, 'images'), images);
    await writeFile(path.join(disk, 'images', 'film.mkv'), 'the user’s');

    await moveVmCache({ from, to });
    expect((await lstat(path.join(to, 'cache', 'vm', 'images'))).isDirectory()).toBe(true);
    expect(await verifyX64(to)).toMatchObject({ ok: true });
    expect(await readdir(path.join(disk, 'images'))).toEqual(['film.mkv']);
    // The link is the user's: kept, so the old root keeps the folder holding it.
    expect(await listFiles(from)).toEqual([]);
    expect((await lstat(images)).isSymbolicLink()).toBe(true);
  });

  describe('a full disk at the destination (tmpfs)', () => {
    it('short of space: refused up front, naming the space needed and where; the old root complete', async (t) => {
      const disk = await smallDisk(8);
      if (!disk) return t.skip();
      const { from } = await synced({ a: 6 * MiB, b: 6 * MiB });
      const to = path.join(disk, 'vm-cache');
      const before = await everything(from);
      const err = (await refusal({ from, to })) as unknown as {
        code: string;
        message: string;
        neededBytes: number;
        freeBytes: number;
      };
      expect(err).toMatchObject({ code: 'ERR_DISK_FULL' });
      expect(err.message).toMatch(/^disk full at .*vm-cache: 1[34]\.\d MB needed, [\d.]+ [kM]B free/);
      expect(err.neededBytes).toBeGreaterThan(12 * MiB);
      expect(err.freeBytes).toBeLessThanOrEqual(8 * MiB);
      expect(await everything(from)).toEqual(before);
      expect(await verifyX64(from)).toMatchObject({ ok: true });
      expect(existsSync(to)).toBe(false);
    });

    it('filled by another process mid-copy: a disk-full error, the copy removed, the old root complete; then it fits', async (t) => {
      const disk = await smallDisk(8);
      if (!disk) return t.skip();
      const { from } = await synced({ a: 3 * MiB, b: 2 * MiB });
      const to = path.join(disk, 'vm-cache');
      const before = await everything(from);
      const filler = path.join(disk, 'filler');
      let filled = false;
      const err = await refusal({
        from,
        to,
        onProgress: (p) => {
          if (p.step !== 'copying' || filled) return;
          filled = true;
          try {
            writeFileSync(filler, Buffer.alloc(4 * MiB));
          } catch {
            // The disk is full either way.
          }
        },
      });
      expect(filled).toBe(true);
      expect(err).toMatchObject({ code: 'ERR_DISK_FULL' });
      expect(err.message).toMatch(/disk full at .*vm-cache/);
      expect(await everything(from)).toEqual(before);
      expect(existsSync(to)).toBe(false);
      await rm(filler);
      await expect(moveVmCache({ from, to })).resolves.toMatchObject({ root: to });
      expect(await verifyX64(to)).toMatchObject({ ok: true });
    });
  });
});

describe('removeMovedVmCache', () => {
  it('refuses a root that holds a cache and no record of a move, removing nothing', async () => {
    const { from } = await synced();
    const before = await everything(from);
    await expect(removeMovedVmCache({ from })).rejects.toMatchObject({
      code: 'ERR_CACHE_LAYOUT',
      message: expect.stringMatching(/no record of a move/),
    });
    expect(await everything(from)).toEqual(before);
  });

  it('nothing there: nothing to do', async () => {
    const base = await tempRoot();
    await expect(removeMovedVmCache({ from: path.join(base, 'gone') })).resolves.toEqual({ removedBytes: 0 });
  });

  it('after a finished move there is nothing left to remove', async () => {
    const { from, to } = await synced();
    await moveVmCache({ from, to });
    await expect(removeMovedVmCache({ from })).resolves.toEqual({ removedBytes: 0 });
    expect(await readFile(path.join(to, 'cache', 'vm', 'manifest.json'), 'utf8')).toContain('schemaVersion');
  });
});
