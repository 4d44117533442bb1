// Downloads that survive: resume across attempts and restarts, with the
// server told to cut, ignore Range, change its ETag or refuse the range.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureVmCacheSynced, type FetchLike, getCachedManifestPath } from '../../main/engine/index.js';
import { type ArtifactServer, buildManifest, serializeManifest } from '../../server/index.js';
import { countingFetch, entryOf, keyOf, oneArtifactServer, server, tempRoot } from '../helpers.js';

const SIZE = 1_000_000;

async function cutAt60(fetchImpl?: FetchLike) {
  const s = await oneArtifactServer(SIZE);
  const root = await tempRoot();
  const key = keyOf(s);
  const cut = Math.floor(SIZE * 0.6);
  s.setFault(key, { resetAtByte: cut, times: 1 });
  const o = { root, manifestUrl: s.manifestUrl, rawHostArch: 'x64', ...(fetchImpl ? { fetchImpl } : {}) };
  await expect(ensureVmCacheSynced(o)).rejects.toMatchObject({ code: 'ERR_NETWORK' });
  const file = path.join(root, 'cache', key);
  return { s, root, key, cut, o, file };
}

/** A server and a root holding a partial (and its sidecar) left by an earlier process. */
async function withPartial(
  bytes: (s: ArtifactServer, key: string) => Buffer,
  sha256: (s: ArtifactServer) => string,
) {
  const s = await oneArtifactServer(SIZE);
  const root = await tempRoot();
  const key = keyOf(s);
  const file = path.join(root, 'cache', key);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(`${file}.partial`, bytes(s, key));
  await writeFile(
    `${file}.partial.json`,
    JSON.stringify({ sha256: sha256(s), sizeBytes: SIZE, etag: '"x"' }),
  );
  return { s, root, key, file };
}

describe('resume', () => {
  for (const transport of ['got', 'fetch'] as const) {
    it(`after a cut at 60 %, the next sync transfers only the remaining 40 % (${transport})`, async () => {
      const { s, key, cut, o, file } = await cutAt60(transport === 'fetch' ? countingFetch() : undefined);
      expect(existsSync(`${file}.partial`)).toBe(true);
      expect((await readFile(`${file}.partial`)).length).toBe(cut);
      const meta = JSON.parse(await readFile(`${file}.partial.json`, 'utf8'));
      expect(meta).toMatchObject({ sha256: entryOf(s).sha256, sizeBytes: SIZE });
      expect(meta.etag).toBeTruthy();
      expect(existsSync(getCachedManifestPath(o.root))).toBe(false);

      const before = s.bytesServed(key);
      expect(before).toBe(cut);
      const result = await ensureVmCacheSynced(o);
      expect(result.downloaded).toEqual([key]);
      expect(s.bytesServed(key) - before).toBe(SIZE - cut);
      const resumed = s.requests.filter((r) => r.path === key).at(-1)!;
      expect(resumed).toMatchObject({ range: `bytes=${cut}-`, ifRange: meta.etag, status: 206 });
      expect(await readFile(file)).toEqual(s.contentOf(key));
      expect(existsSync(`${file}.partial`) || existsSync(`${file}.partial.json`)).toBe(false);
    });
  }

  it('resumes within one call when retries are allowed: total bytes served equal the size', async () => {
    const s = await oneArtifactServer(SIZE);
    const key = keyOf(s);
    s.setFault(key, { resetAtByte: 250_000, times: 2 });
    const root = await tempRoot();
    const result = await ensureVmCacheSynced({
      root,
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      retries: 3,
      retryPolicy: { baseDelayMs: 10 },
    });
    expect(result.downloaded).toEqual([key]);
    expect(s.bytesServed(key)).toBe(SIZE);
    expect(s.requests.filter((r) => r.path === key).map((r) => r.range ?? null)).toEqual([
      null,
      'bytes=250000-',
      'bytes=500000-',
    ]);
  });

  it('a 200 answer to the Range request restarts from zero and still ends verified', async () => {
    const { s, key, o, file } = await cutAt60();
    s.setFault(key, { ignoreRange: true });
    const before = s.bytesServed(key);
    await ensureVmCacheSynced(o);
    expect(s.bytesServed(key) - before).toBe(SIZE);
    expect(await readFile(file)).toEqual(s.contentOf(key));
  });

  it('an ETag that changed since the cut restarts from zero (If-Range)', async () => {
    const { s, key, o, file } = await cutAt60();
    s.setFault(key, { changeEtag: true });
    const before = s.bytesServed(key);
    await ensureVmCacheSynced(o);
    const last = s.requests.filter((r) => r.path === key).at(-1)!;
    expect(last.status).toBe(200);
    expect(s.bytesServed(key) - before).toBe(SIZE);
    expect(await readFile(file)).toEqual(s.contentOf(key));
  });

  it('a 416 answer restarts from zero with a plain request', async () => {
    const { s, key, o, file } = await cutAt60();
    s.setFault(key, { status: 416, times: 1 });
    await ensureVmCacheSynced(o);
    const tail = s.requests.filter((r) => r.path === key).slice(-2);
    expect(tail.map((r) => [r.status, r.range ?? null])).toEqual([
      [416, `bytes=${Math.floor(SIZE * 0.6)}-`],
      [200, null],
    ]);
    expect(await readFile(file)).toEqual(s.contentOf(key));
  });

  it('a partial that belongs to another sha256 is discarded', async () => {
    const { s, root, key, file } = await withPartial(
      () => Buffer.alloc(400_000, 9),
      () => 'a'.repeat(64),
    );
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect(s.requests.filter((r) => r.path === key).map((r) => r.range ?? null)).toEqual([null]);
    expect(await readFile(file)).toEqual(s.contentOf(key));
  });

  it('a complete partial left by a crash before the rename is verified and promoted without a download', async () => {
    const { s, root, key, file } = await withPartial(
      (s, key) => s.contentOf(key),
      (s) => entryOf(s).sha256,
    );
    const result = await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect(result.downloaded).toEqual([key]);
    expect(s.bytesServed(key)).toBe(0);
    expect(await readFile(file)).toEqual(s.contentOf(key));
  });

  it('hashes the kept bytes before asking for the rest, so a server that drops idle clients does not cut the resume', async () => {
    const MiB = 1 << 20;
    // 1.5 GiB kept (sparse: zeros, nothing on disk) takes about a second to hash;
    // the server drops a client that reads nothing for 300 ms.
    const kept = 1536 * MiB;
    const rest = randomBytes(48 * MiB);
    const key = 'vm/images/big-1-x64.tar.gz';
    const dir = await tempRoot();
    const served = path.join(dir, key);
    await mkdir(path.dirname(served), { recursive: true });
    await writeFile(served, '');
    await truncate(served, kept);
    await appendFile(served, rest);
    const hash = createHash('sha256');
    const zeros = Buffer.alloc(16 * MiB);
    for (let at = 0; at < kept; at += zeros.length) hash.update(zeros);
    const sha256 = hash.update(rest).digest('hex');
    const sizeBytes = kept + rest.length;
    const manifest = buildManifest([
      { artifact: { agent: 'big', version: '1', arch: 'x64', sizeBytes }, sha256 },
    ]);
    await writeFile(path.join(dir, 'vm/manifest.json'), serializeManifest(manifest));
    const s = await server({ dir });
    const etag = (await fetch(`${s.url}/${key}`, { method: 'HEAD' })).headers.get('etag');

    const root = await tempRoot();
    const file = path.join(root, 'cache', key);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(`${file}.partial`, '');
    await truncate(`${file}.partial`, kept);
    await writeFile(`${file}.partial.json`, JSON.stringify({ sha256, sizeBytes, etag }));
    s.setFault(key, { sendTimeoutMs: 300 });

    // One connection: this is about the one request after the prefix (ranges have tests of their own).
    const result = await ensureVmCacheSynced({
      root,
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      connections: 1,
    });
    expect(result.downloaded).toEqual([key]);
    expect(s.requests.filter((r) => r.path === key && r.method === 'GET')).toMatchObject([
      { range: `bytes=${kept}-`, status: 206 },
    ]);
    expect(s.bytesServed(key)).toBe(rest.length);
  }, 60_000);
});
