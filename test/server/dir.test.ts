import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArtifactServer, startArtifactServer } from '../../server/index.js';
import { bytes, rawGet, sha256 } from './helpers.js';

let base: string;
let root: string;
let server: ArtifactServer;
const tarball = Buffer.alloc(300_000);
for (let i = 0; i < tarball.length; i++) tarball[i] = (i * 31 + 7) & 0xff;
const manifest = {
  schemaVersion: 2,
  updatedAt: '2026-01-01T00:00:00.000Z',
  agents: {
    x: {
      image: 'i',
      version: '1',
      tarballs: { x64: { key: 'vm/images/x.tar.gz', sha256: sha256(tarball), sizeBytes: tarball.length } },
    },
  },
};

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'artifact-server-dir-'));
  root = join(base, 'cdn');
  await mkdir(join(root, 'vm/images'), { recursive: true });
  await writeFile(join(root, 'vm/manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(join(root, 'vm/images/x.tar.gz'), tarball);
  await writeFile(join(root, 'vm/manifest.json.sig'), 'signature');
  await writeFile(join(base, 'secret.txt'), 'outside');
  await symlink(join(base, 'secret.txt'), join(root, 'vm/escape.txt'));
  server = await startArtifactServer({ dir: root });
});
afterAll(async () => {
  await server.close();
  await rm(base, { recursive: true, force: true });
});

describe('dir mode', () => {
  it('serves the folder as it is, and parses its manifest', async () => {
    expect(server.manifest).toEqual(manifest);
    const m = await fetch(server.manifestUrl);
    expect(m.headers.get('content-type')).toBe('application/json');
    expect(await m.json()).toEqual(manifest);
    const t = await fetch(`${server.url}/vm/images/x.tar.gz`);
    expect(t.status).toBe(200);
    expect(t.headers.get('content-length')).toBe('300000');
    expect(t.headers.get('etag')).toMatch(/^"[^"]+"$/);
    expect((await bytes(t)).equals(tarball)).toBe(true);
    expect(await (await fetch(`${server.url}/vm/manifest.json.sig`)).text()).toBe('signature');
  });

  it('supports Range, If-Range and 416 on files', async () => {
    const head = await fetch(`${server.url}/vm/images/x.tar.gz`, { method: 'HEAD' });
    const etag = head.headers.get('etag') ?? '';
    const r = await fetch(`${server.url}/vm/images/x.tar.gz`, {
      headers: { Range: 'bytes=100000-', 'If-Range': etag },
    });
    expect(r.status).toBe(206);
    expect(r.headers.get('content-range')).toBe('bytes 100000-299999/300000');
    expect((await bytes(r)).equals(tarball.subarray(100_000))).toBe(true);
    const stale = await fetch(`${server.url}/vm/images/x.tar.gz`, {
      headers: { Range: 'bytes=100000-', 'If-Range': '"old"' },
    });
    expect(stale.status).toBe(200);
    await stale.arrayBuffer();
    const past = await fetch(`${server.url}/vm/images/x.tar.gz`, { headers: { Range: 'bytes=300000-' } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe('bytes */300000');
  });

  it('applies faults to files and counts their bytes', async () => {
    const before = server.bytesServed('vm/images/x.tar.gz');
    server.setFault('vm/images/x.tar.gz', { resetAtByte: 70_000, times: 1 });
    await expect(fetch(`${server.url}/vm/images/x.tar.gz`).then((r) => r.arrayBuffer())).rejects.toThrow();
    expect(server.bytesServed('vm/images/x.tar.gz') - before).toBe(70_000);
  });

  it('never serves anything outside the folder', async () => {
    for (const path of [
      '/../secret.txt',
      '/vm/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/vm%2f..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      `/${encodeURIComponent(join(base, 'secret.txt'))}`,
      '/vm/escape.txt', // a symlink pointing outside
      '/vm/images', // a folder, not a file
      '/vm/images/missing.tar.gz',
    ]) {
      const res = await rawGet(server.url, path);
      expect(res.status, path).toBe(404);
      expect(res.body.toString()).not.toContain('outside');
    }
  });

  it('setManifest overrides the file without touching it', async () => {
    const s = await startArtifactServer({ dir: root });
    try {
      s.setManifest({ schemaVersion: 2, agents: {} });
      expect(await (await fetch(s.manifestUrl)).json()).toEqual({ schemaVersion: 2, agents: {} });
      expect(s.manifest).toEqual({ schemaVersion: 2, agents: {} });
      expect(await (await fetch(server.manifestUrl)).json()).toEqual(manifest);
    } finally {
      await s.close();
    }
  });

  it('rejects a dir that is not a folder', async () => {
    await expect(startArtifactServer({ dir: join(base, 'secret.txt') })).rejects.toThrow(/not a directory/);
  });
});
