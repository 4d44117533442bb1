// importVmCache runs the sync pipeline over a folder (or a .tar): progress as
// a sync reports it, the lock, the plan (a file already in place is hashed,
// not copied again), all or nothing when a tarball is bad.

import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ensureVmCacheAvailable,
  getCachedManifestPath,
  getSyncProgress,
  importVmCache,
  manifestArchFor,
  type SyncProgress,
} from '../../main/engine/index.js';
import { lockRoot } from '../../main/engine/local-state.js';
import { listFiles, tempRoot } from '../helpers.js';

const ARCH = manifestArchFor(process.arch);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A folder laid out like the CDN with one tarball per agent; returns the folder and each key's bytes. */
async function mirror(agents: string[]): Promise<{ dir: string; bytes: Map<string, Buffer> }> {
  const dir = await tempRoot();
  const bytes = new Map<string, Buffer>();
  const doc = {
    schemaVersion: 2,
    updatedAt: '2026-11-01T00:00:00.000Z',
    agents: {} as Record<string, unknown>,
  };
  for (const agent of agents) {
    const key = `vm/images/${agent}-1-${ARCH}.tar.gz`;
    const b = randomBytes(200_000);
    bytes.set(key, b);
    await mkdir(path.join(dir, 'vm', 'images'), { recursive: true });
    await writeFile(path.join(dir, key), b);
    doc.agents[agent] = {
      version: '1',
      tarballs: { [ARCH]: { key, sha256: sha256(b), sizeBytes: b.length } },
    };
  }
  await writeFile(path.join(dir, 'vm', 'manifest.json'), JSON.stringify(doc));
  return { dir, bytes };
}

/** An import of one tarball into a root whose lock another holder has; `atLock` settles when it waits. */
async function importBehindLock() {
  const { dir } = await mirror(['a']);
  const root = await tempRoot();
  const held = await lockRoot(root);
  const phases: string[] = [];
  let waiting: () => void = () => {};
  const atLock = new Promise<void>((resolve) => {
    waiting = resolve;
  });
  const imported = importVmCache({
    from: dir,
    root,
    onProgress: (p) => {
      phases.push(p.phase);
      if (p.phase === 'waiting-for-lock') waiting();
    },
  });
  return { root, held, imported, phases, atLock };
}

describe('importVmCache', () => {
  it('reports progress as a sync does and commits the manifest after the tarballs', async () => {
    const { dir, bytes } = await mirror(['a', 'b']);
    const root = await tempRoot();
    const events: SyncProgress[] = [];
    const result = await importVmCache({ from: dir, root, onProgress: (p) => events.push(p) });
    expect(result.downloaded.sort()).toEqual([...bytes.keys()].sort());
    for (const [key, b] of bytes)
      expect(sha256(await readFile(path.join(root, 'cache', key)))).toBe(sha256(b));
    expect(await readFile(getCachedManifestPath(root), 'utf8')).toContain('"schemaVersion": 2');
    const phases = [...new Set(events.map((e) => e.phase))];
    expect(phases).toEqual(expect.arrayContaining(['downloading', 'finalizing', 'done']));
    const last = events.at(-1)!;
    expect(last.phase).toBe('done');
    expect(last.artifacts.map((a) => a.state)).toEqual(['verified', 'verified']);
    expect(last.receivedBytes).toBe(400_000);
  });

  it('hashes a tarball already in place instead of copying it again', async () => {
    const { dir, bytes } = await mirror(['a']);
    const root = await tempRoot();
    const [key, b] = [...bytes][0]!;
    await importVmCache({ from: dir, root });
    // The bytes stay in place, but no manifest vouches for them any more.
    await writeFile(getCachedManifestPath(root), '{}');
    const states: string[] = [];
    const result = await importVmCache({
      from: dir,
      root,
      onProgress: (p) => states.push(p.artifacts[0]?.state ?? 'none'),
    });
    expect(result.downloaded).toEqual([]);
    expect(states).toContain('verified');
    expect(states).not.toContain('downloading');
    expect(sha256(await readFile(path.join(root, 'cache', key)))).toBe(sha256(b));
  });

  it('is all or nothing: one bad tarball leaves no other tarball, partial or manifest behind', async () => {
    const { dir, bytes } = await mirror(['a', 'b', 'c']);
    const root = await tempRoot();
    const victim = [...bytes.keys()][2]!;
    const damaged = Buffer.from(bytes.get(victim)!);
    damaged[1000] = (damaged[1000] ?? 0) ^ 0xff;
    await writeFile(path.join(dir, victim), damaged);
    await expect(importVmCache({ from: dir, root, concurrency: 3 })).rejects.toMatchObject({
      code: 'ERR_SHA256_MISMATCH',
      message: expect.stringContaining(`${victim} in the import`),
    });
    const left = (await listFiles(path.join(root, 'cache')).catch(() => [])).filter(
      (f) => !f.startsWith('.'),
    );
    expect(left).toEqual([]);
  });

  it('waits for the cache lock like a sync, and says so', async () => {
    const { root, held, imported, phases, atLock } = await importBehindLock();
    await atLock;
    expect(existsSync(getCachedManifestPath(root))).toBe(false);
    await held.release();
    await imported;
    expect(phases.at(-1)).toBe('done');
    expect(await readFile(getCachedManifestPath(root), 'utf8')).toContain('"a"');
  });

  it('leaves the partials it never reached as they were (a network sync may resume them)', async () => {
    const { dir, bytes } = await mirror(['a', 'b']);
    const root = await tempRoot();
    const [first, second] = [...bytes.keys()] as [string, string];
    // `a` is damaged in the source; `b` has half a download kept by an earlier sync.
    const damaged = Buffer.from(bytes.get(first)!);
    damaged[10] = (damaged[10] ?? 0) ^ 0xff;
    await writeFile(path.join(dir, first), damaged);
    const earlier = await mirror(['z']);
    await importVmCache({ from: earlier.dir, root });
    const kept = path.join(root, 'cache', `${second}.partial`);
    await mkdir(path.dirname(kept), { recursive: true });
    await writeFile(kept, bytes.get(second)!.subarray(0, 1000));
    await writeFile(`${kept}.json`, JSON.stringify({ sha256: 'x', sizeBytes: 200_000, etag: '"v1"' }));
    await expect(importVmCache({ from: dir, root, concurrency: 1 })).rejects.toMatchObject({
      code: 'ERR_SHA256_MISMATCH',
    });
    expect(await listFiles(path.join(root, 'cache'))).toEqual(
      [...earlier.bytes.keys(), `${second}.partial`, `${second}.partial.json`, 'vm/manifest.json'].sort(),
    );
  });

  it('reads a tar whose names carry a ./ segment (tar -cf x.tar mirror/.)', async () => {
    const { dir, bytes } = await mirror(['a']);
    const tar = path.join(await tempRoot(), 'x.tar');
    execFileSync('tar', ['-cf', tar, '-C', path.dirname(dir), `${path.basename(dir)}/.`]);
    expect(execFileSync('tar', ['-tf', tar], { encoding: 'utf8' })).toContain('/./vm/manifest.json');
    const root = await tempRoot();
    const result = await importVmCache({ from: tar, root });
    expect(result.downloaded).toEqual([...bytes.keys()]);
  });

  it('names the file it lacks as the source’s fault, not a server’s 404', async () => {
    const { dir, bytes } = await mirror(['a']);
    const root = await tempRoot();
    const key = [...bytes.keys()][0]!;
    // Gone between the check before the lock and the copy (a pulled USB stick).
    const pulled = importVmCache({
      from: dir,
      root,
      onProgress: (p) => {
        if (p.phase === 'downloading' && existsSync(path.join(dir, key))) rmSync(path.join(dir, key));
      },
    });
    await expect(pulled).rejects.toMatchObject({
      code: 'ERR_IMPORT_SOURCE',
      message: expect.stringContaining(`${key} is missing from ${dir}`),
    });
  });

  it('is in flight like a sync: the root shows it, and ensureVmCacheAvailable waits for it', async () => {
    const { root, held, imported, atLock } = await importBehindLock();
    await atLock;
    expect(getSyncProgress(root)?.phase).toBe('waiting-for-lock');
    // Nothing listens there: it can only succeed by waiting for the import and finding the cache complete.
    const available = ensureVmCacheAvailable({ root, manifestUrl: 'http://127.0.0.1:9/vm/manifest.json' });
    await held.release();
    await imported;
    expect(await available).toMatchObject({ downloaded: [], skipped: true });
    expect(getSyncProgress(root)).toBeUndefined();
  });
});
