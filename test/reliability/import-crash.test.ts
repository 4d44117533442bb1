// `vm-cache import` of new bytes under a key the cache already holds, killed
// the instant the new tarball is renamed into place: the manifest on disk must
// never vouch for bytes that do not verify against it (the sync's guarantee).
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, watch } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { getCachedManifestPath } from '../../main/engine/index.js';
import { expectCode, HOST_ARCH, runCli, startCli } from '../cli/helpers.js';
import { tempRoot } from '../helpers.js';

// Each test runs the real CLI as child processes, one after another, each about a second
// of CPU (tsx compiles the sources on the fly): one took 11 s on a loaded 2-core machine.
// The timeout is no speed check: it only has to end a hang.
vi.setConfig({ testTimeout: 120_000 });

const KEY = `vm/images/agent-${HOST_ARCH}.tar.gz`;
const SIZE = 1 << 20;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A folder laid out like the CDN with one tarball at KEY; returns its sha256. */
async function mirror(version: string, updatedAt: string): Promise<{ dir: string; sha: string }> {
  const dir = await tempRoot();
  const bytes = randomBytes(SIZE);
  await mkdir(path.join(dir, 'vm', 'images'), { recursive: true });
  await writeFile(path.join(dir, KEY), bytes);
  const doc = {
    schemaVersion: 2,
    updatedAt,
    agents: {
      agent: { version, tarballs: { [HOST_ARCH]: { key: KEY, sha256: sha256(bytes), sizeBytes: SIZE } } },
    },
  };
  await writeFile(path.join(dir, 'vm', 'manifest.json'), `${JSON.stringify(doc, null, 2)}\n`);
  return { dir, sha: sha256(bytes) };
}

/** What the cached manifest says KEY holds, or undefined without a manifest. */
async function vouchedSha(root: string): Promise<string | undefined> {
  if (!existsSync(getCachedManifestPath(root))) return undefined;
  const doc = JSON.parse(await readFile(getCachedManifestPath(root), 'utf8')) as {
    agents: Record<string, { tarballs: Record<string, { key: string; sha256: string }> }>;
  };
  return doc.agents.agent?.tarballs[HOST_ARCH]?.sha256;
}

describe('import of an older manifest', () => {
  it('is refused (ERR_ROLLBACK, exit 4) with the newer cache unchanged; after a clear it is accepted', async () => {
    const root = await tempRoot();
    const newer = await mirror('2', '2026-11-01T00:00:00.000Z');
    expectCode(await runCli(['import', newer.dir, '--root', root]), 0);
    const older = await mirror('1', '2026-10-01T00:00:00.000Z');
    const refused = await runCli(['import', older.dir, '--root', root, '--json']);
    expectCode(refused, 4);
    expect(refused.stdout + refused.stderr).toContain('ERR_ROLLBACK');
    expect(await vouchedSha(root)).toBe(newer.sha);
    expect(sha256(await readFile(path.join(root, 'cache', KEY)))).toBe(newer.sha);
    expectCode(await runCli(['clear', '--root', root]), 0);
    expectCode(await runCli(['import', older.dir, '--root', root]), 0);
    expect(await vouchedSha(root)).toBe(older.sha);
  });
});

describe('import over a key the cache already holds', () => {
  it('killed as the new tarball lands: the manifest vouches only for bytes that verify, and a re-run completes', async () => {
    const root = await tempRoot();
    const first = await mirror('1', '2026-10-01T00:00:00.000Z');
    expectCode(await runCli(['import', first.dir, '--root', root]), 0);
    const second = await mirror('2', '2026-11-01T00:00:00.000Z');

    const images = path.join(root, 'cache', 'vm', 'images');
    const run = startCli(['import', second.dir, '--root', root]);
    let killed = false;
    // The tarball's name is only touched by the rename that replaces it.
    const watcher = watch(images, (_event, name) => {
      if (!killed && name === path.posix.basename(KEY)) {
        killed = true;
        run.child.kill('SIGKILL');
      }
    });
    try {
      await run.done;
    } finally {
      watcher.close();
    }
    expect(killed).toBe(true);
    const onDisk = sha256(await readFile(path.join(root, 'cache', KEY)));
    expect(onDisk).toBe(second.sha);
    // Either no manifest (the next sync or import re-checks) or the new one.
    const vouched = await vouchedSha(root);
    if (vouched !== undefined) expect(vouched).toBe(onDisk);

    expectCode(await runCli(['import', second.dir, '--root', root]), 0);
    expect(await vouchedSha(root)).toBe(second.sha);
  });
});

/** Root only: `cache/vm` read-only (the manifest cannot be written) while `cache/vm/images` stays writable. */
function manifestFolderReadOnly(root: string): (() => void) | undefined {
  if (process.getuid?.() !== 0) {
    if (process.env.CI) throw new Error('this test needs root to bind-mount, and CI runs as root');
    return undefined;
  }
  const vm = path.join(root, 'cache', 'vm');
  const images = path.join(vm, 'images');
  execFileSync('mount', ['--bind', vm, vm]);
  execFileSync('mount', ['-o', 'remount,bind,ro', vm]);
  execFileSync('mount', ['--bind', images, images]);
  execFileSync('mount', ['-o', 'remount,bind,rw', images]);
  return () => {
    execFileSync('umount', [images]);
    execFileSync('umount', [vm]);
  };
}

describe('import over a key the cache already holds, when the manifest cannot be written', () => {
  it('fails with the old manifest still vouching only for bytes that verify', async () => {
    const root = await tempRoot();
    const first = await mirror('1', '2026-10-01T00:00:00.000Z');
    expectCode(await runCli(['import', first.dir, '--root', root]), 0);
    const second = await mirror('2', '2026-11-01T00:00:00.000Z');
    const restore = manifestFolderReadOnly(root);
    if (!restore) return;
    let result: Awaited<ReturnType<typeof runCli>>;
    try {
      result = await runCli(['import', second.dir, '--root', root]);
    } finally {
      restore();
    }
    expect(result.code).not.toBe(0);
    const onDisk = sha256(await readFile(path.join(root, 'cache', KEY)));
    const vouched = await vouchedSha(root);
    if (vouched !== undefined) expect(vouched).toBe(onDisk);
    // Writable again, the same import completes.
    expectCode(await runCli(['import', second.dir, '--root', root]), 0);
    expect(await vouchedSha(root)).toBe(second.sha);
  });
});
