// A hostile disk under the partial download (issue #13): a `.partial` left as
// a symlink or a hard link to a file outside the cache, or as a FIFO. The
// outside file must never change, and a FIFO must neither hang the sync nor
// make cancel do nothing. Each case runs in `npm test`.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { link, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureVmCacheSynced, verifyVmCache } from '../../main/engine/index.js';
import type { ArtifactServer } from '../../server/index.js';
import { entryOf, keyOf, oneArtifactServer, tempRoot } from '../helpers.js';
import { isHung, settleWithin } from './support/deadline.js';

const SIZE = 300_000;
const DEADLINE_MS = 10_000;

/** The validator the server gives the tarball, so a kept partial's If-Range holds and it is resumed. */
async function etagOf(s: ArtifactServer, key: string): Promise<string> {
  const res = await fetch(`${s.url}/${key}`, { headers: { range: 'bytes=0-0' } });
  await res.arrayBuffer();
  return res.headers.get('etag')!;
}

/** A root where the tarball's `.partial` is about to be made by `make`, beside a valid sidecar. */
async function partialSetup() {
  const s = await oneArtifactServer(SIZE);
  const root = await tempRoot();
  const key = keyOf(s);
  const finalPath = path.join(root, 'cache', key);
  await mkdir(path.dirname(finalPath), { recursive: true });
  const { sha256, sizeBytes } = entryOf(s);
  await writeFile(
    `${finalPath}.partial.json`,
    JSON.stringify({ sha256, sizeBytes, etag: await etagOf(s, key) }),
  );
  return {
    s,
    root,
    key,
    partial: `${finalPath}.partial`,
    o: { root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' },
  };
}

describe('a partial that is not a file of the cache', () => {
  for (const kind of ['symlink', 'hard link'] as const) {
    it(`a ${kind} to a file outside the root: the sync completes and the outside file is unchanged`, async () => {
      const { s, key, partial, o } = await partialSetup();
      // The real first bytes: resumed through the link, the sync would even succeed.
      const kept = s.contentOf(key).subarray(0, SIZE / 3);
      const outside = path.join(await tempRoot(), 'outside.bin');
      await writeFile(outside, kept);
      const before = await stat(outside);
      if (kind === 'symlink') await symlink(outside, partial);
      else await link(outside, partial);

      await ensureVmCacheSynced(o);

      expect(Buffer.compare(await readFile(outside), kept)).toBe(0);
      expect((await stat(outside)).mtimeMs).toBe(before.mtimeMs);
      expect((await stat(path.join(o.root, 'cache', key))).ino).not.toBe(before.ino);
      expect((await verifyVmCache(o)).ok).toBe(true);
    });
  }

  /** Opening the FIFO for reading releases a writer blocked in open(), so a hung run can unwind. */
  function releaseFifo(fifo: string) {
    if (!existsSync(fifo)) return;
    try {
      closeSync(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
    } catch {}
  }

  it('a FIFO: the sync completes within the deadline', async (t) => {
    if (process.platform === 'win32') return t.skip();
    const { partial, o } = await partialSetup();
    execFileSync('mkfifo', [partial]);
    const settled = await settleWithin((signal) => ensureVmCacheSynced({ ...o, signal }), DEADLINE_MS);
    releaseFifo(partial);
    expect(isHung(settled)).toBe(false);
    expect(settled).toMatchObject({ ok: true });
    expect((await verifyVmCache(o)).ok).toBe(true);
  });

  it('a FIFO: cancel ends the sync within the deadline', async (t) => {
    if (process.platform === 'win32') return t.skip();
    const { s, key, partial, o } = await partialSetup();
    execFileSync('mkfifo', [partial]);
    // Slow enough that the download is still running when it is cancelled.
    s.setFault(key, { dripBytesPerSec: 20_000 });
    const settled = await settleWithin(async (deadline) => {
      const cancel = new AbortController();
      deadline.addEventListener('abort', () => cancel.abort());
      return ensureVmCacheSynced({
        ...o,
        signal: cancel.signal,
        onProgress: (p) => {
          if (p.artifacts.some((a) => a.state === 'downloading')) cancel.abort();
        },
      });
    }, DEADLINE_MS);
    releaseFifo(partial);
    expect(isHung(settled)).toBe(false);
    expect(settled).toMatchObject({ ok: false, error: { code: 'ERR_ABORTED' } });
  });
});
