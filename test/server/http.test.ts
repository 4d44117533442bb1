import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArtifactServer, type GeneratedArtifact, startArtifactServer } from '../../server/index.js';
import { bytes, rawGet, sha256 } from './helpers.js';

const ARTIFACTS: GeneratedArtifact[] = [
  { agent: 'openclaw', version: '2026.4.12', arch: 'arm64', sizeBytes: 2 * 1024 * 1024 + 333 },
  { agent: 'openclaw', version: '2026.4.12', arch: 'x64', sizeBytes: 1_500_001 },
  { agent: 'hermes', version: '1.8.0', arch: 'x64', sizeBytes: 4096, seed: 'custom-seed' },
];
const KEY = 'vm/images/openclaw-2026.4.12-x64.tar.gz';
const SIZE = 1_500_001;

let server: ArtifactServer;
beforeAll(async () => {
  server = await startArtifactServer({ artifacts: ARTIFACTS, manifestExtra: { channel: 'stable' } });
});
afterAll(() => server.close());

describe('artifact server: manifest and content', () => {
  it('listens on 127.0.0.1 and names the manifest URL', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.manifestUrl).toBe(`${server.url}/vm/manifest.json`);
  });

  it('serves the generated schema 2 manifest, pretty-printed with a newline', async () => {
    const res = await fetch(server.manifestUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const text = await res.text();
    expect(text).toBe(`${JSON.stringify(server.manifest, null, 2)}\n`);
    const doc = JSON.parse(text);
    expect(doc).toMatchObject({ schemaVersion: 2, updatedAt: '2026-04-24T00:00:00.000Z', channel: 'stable' });
    expect(doc.agents.openclaw.image).toBe('ghcr.io/example/openclaw');
    expect(doc.agents.openclaw.version).toBe('2026.4.12');
    expect(Object.keys(doc.agents.openclaw.tarballs)).toEqual(['arm64', 'x64']);
    expect(doc.agents.hermes.tarballs.x64).toMatchObject({
      key: 'vm/images/hermes-1.8.0-x64.tar.gz',
      sizeBytes: 4096,
    });
  });

  it('serves every tarball with the sha256 and size the manifest lists', async () => {
    const agents = server.manifest.agents as Record<
      string,
      { tarballs: Record<string, { key: string; sha256: string; sizeBytes: number }> }
    >;
    for (const agent of Object.values(agents)) {
      for (const entry of Object.values(agent.tarballs)) {
        const res = await fetch(`${server.url}/${entry.key}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-length')).toBe(String(entry.sizeBytes));
        expect(res.headers.get('accept-ranges')).toBe('bytes');
        expect(res.headers.get('etag')).toMatch(/^"[^"]+"$/);
        expect(res.headers.get('last-modified')).toBeTruthy();
        const body = await bytes(res);
        expect(body.length).toBe(entry.sizeBytes);
        expect(sha256(body)).toBe(entry.sha256);
        expect(body.equals(server.contentOf(entry.key))).toBe(true);
      }
    }
  });

  it('keeps the ETag stable across requests', async () => {
    const a = await fetch(`${server.url}/${KEY}`, { method: 'HEAD' });
    const b = await fetch(`${server.url}/${KEY}`, { method: 'HEAD' });
    expect(a.headers.get('etag')).toBe(b.headers.get('etag'));
    expect(a.headers.get('last-modified')).toBe(b.headers.get('last-modified'));
  });

  it('answers Range bytes=N- and bytes=N-M with 206 and Content-Range', async () => {
    const full = server.contentOf(KEY);
    const open = await fetch(`${server.url}/${KEY}`, { headers: { Range: 'bytes=1000000-' } });
    expect(open.status).toBe(206);
    expect(open.headers.get('content-range')).toBe(`bytes 1000000-${SIZE - 1}/${SIZE}`);
    expect(open.headers.get('content-length')).toBe(String(SIZE - 1_000_000));
    expect((await bytes(open)).equals(full.subarray(1_000_000))).toBe(true);

    const closed = await fetch(`${server.url}/${KEY}`, { headers: { Range: 'bytes=10-19' } });
    expect(closed.status).toBe(206);
    expect(closed.headers.get('content-range')).toBe(`bytes 10-19/${SIZE}`);
    expect((await bytes(closed)).equals(full.subarray(10, 20))).toBe(true);
  });

  it('answers 416 with Content-Range bytes */TOTAL for a start past the end', async () => {
    const res = await fetch(`${server.url}/${KEY}`, { headers: { Range: `bytes=${SIZE}-` } });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe(`bytes */${SIZE}`);
    expect((await bytes(res)).length).toBe(0);
  });

  it('honours If-Range with the current ETag or Last-Modified, and ignores Range otherwise', async () => {
    const head = await fetch(`${server.url}/${KEY}`, { method: 'HEAD' });
    const etag = head.headers.get('etag') ?? '';
    const lastModified = head.headers.get('last-modified') ?? '';
    for (const validator of [etag, lastModified]) {
      const res = await fetch(`${server.url}/${KEY}`, {
        headers: { Range: 'bytes=100-', 'If-Range': validator },
      });
      expect(res.status).toBe(206);
      await res.arrayBuffer();
    }
    const stale = await fetch(`${server.url}/${KEY}`, {
      headers: { Range: 'bytes=100-', 'If-Range': '"stale"' },
    });
    expect(stale.status).toBe(200);
    expect(stale.headers.get('content-range')).toBeNull();
    expect((await bytes(stale)).length).toBe(SIZE);
  });

  it('answers HEAD with the headers and no body, and counts no bytes', async () => {
    const before = server.bytesServed(KEY);
    const res = await fetch(`${server.url}/${KEY}`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(SIZE));
    expect((await bytes(res)).length).toBe(0);
    const ranged = await fetch(`${server.url}/${KEY}`, { method: 'HEAD', headers: { Range: 'bytes=5-' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 5-${SIZE - 1}/${SIZE}`);
    expect(server.bytesServed(KEY)).toBe(before);
    expect(server.requests.at(-1)).toMatchObject({
      method: 'HEAD',
      path: KEY,
      range: 'bytes=5-',
      status: 206,
      bytesSent: 0,
    });
  });

  it('answers 404 for unknown paths and traversal attempts', async () => {
    expect((await fetch(`${server.url}/vm/images/nope.tar.gz`)).status).toBe(404);
    expect((await rawGet(server.url, '/vm/../vm/manifest.json')).status).toBe(404);
    expect((await rawGet(server.url, '/vm/%2e%2e/vm/manifest.json')).status).toBe(404);
    expect((await rawGet(server.url, '/vm%2f..%2fvm/manifest.json')).status).toBe(404);
    expect((await fetch(`${server.url}/`)).status).toBe(404);
  });

  it('refuses methods other than GET and HEAD', async () => {
    const res = await fetch(`${server.url}/${KEY}`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });

  it('replaces the manifest with setManifest (object or string)', async () => {
    const original = server.manifest;
    server.setManifest({ schemaVersion: 2, agents: {} });
    expect(await (await fetch(server.manifestUrl)).text()).toBe(
      `${JSON.stringify({ schemaVersion: 2, agents: {} }, null, 2)}\n`,
    );
    expect(server.manifest).toEqual({ schemaVersion: 2, agents: {} });
    server.setManifest('{not json');
    const res = await fetch(server.manifestUrl);
    expect(res.headers.get('content-length')).toBe('9');
    expect(await res.text()).toBe('{not json');
    server.setManifest(original);
    expect(await (await fetch(server.manifestUrl)).json()).toEqual(original);
  });
});

describe('artifact server: request log and byte counts', () => {
  it('records every request in order with exact byte counts', async () => {
    const s = await startArtifactServer({ artifacts: ARTIFACTS });
    try {
      await (await fetch(s.manifestUrl)).arrayBuffer();
      const manifestBytes = s.bytesServed('vm/manifest.json');
      await (await fetch(`${s.url}/${KEY}`, { headers: { Range: 'bytes=600000-' } })).arrayBuffer();
      await (await fetch(`${s.url}/nope`)).arrayBuffer();
      expect(s.requests.map((r) => [r.method, r.path, r.status])).toEqual([
        ['GET', 'vm/manifest.json', 200],
        ['GET', KEY, 206],
        ['GET', 'nope', 404],
      ]);
      expect(s.requests[1]).toMatchObject({ range: 'bytes=600000-', bytesSent: SIZE - 600_000 });
      expect(s.requests[1]?.ifRange).toBeUndefined();
      expect(s.bytesServed(KEY)).toBe(SIZE - 600_000);
      expect(s.bytesServed(`/${KEY}`)).toBe(SIZE - 600_000);
      expect(manifestBytes).toBe(Buffer.byteLength(`${JSON.stringify(s.manifest, null, 2)}\n`));
      expect(s.bytesServed()).toBe(manifestBytes + SIZE - 600_000);
      expect(s.bytesServed('nope')).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('closes promptly with idle keep-alive connections open', async () => {
    const s = await startArtifactServer({ artifacts: ARTIFACTS });
    await (await fetch(s.manifestUrl)).arrayBuffer();
    const t0 = performance.now();
    await s.close();
    // Loose (an event-loop delay on a loaded machine is not a slow close): a close that waited
    // for the idle connection would take the keep-alive timeout, 5 s.
    expect(performance.now() - t0).toBeLessThan(2_000);
    await expect(fetch(s.manifestUrl)).rejects.toThrow();
  });

  it('serves a throttled response at about the configured rate', async () => {
    const s = await startArtifactServer({
      artifacts: [{ agent: 'a', version: '1', arch: 'x64', sizeBytes: 60_000 }],
      throttleBytesPerSec: 200_000,
    });
    try {
      const t0 = performance.now();
      const body = await bytes(await fetch(`${s.url}/vm/images/a-1-x64.tar.gz`));
      const elapsed = performance.now() - t0;
      expect(body.equals(s.contentOf('vm/images/a-1-x64.tar.gz'))).toBe(true);
      // 60 kB at 200 kB/s: about 0.3 s (the first tick goes out at once).
      expect(elapsed).toBeGreaterThan(220);
      expect(elapsed).toBeLessThan(2000);
    } finally {
      await s.close();
    }
  });

  it('can listen on a chosen port', async () => {
    const probe = await startArtifactServer({});
    const port = Number(new URL(probe.url).port);
    await probe.close();
    const s = await startArtifactServer({ port });
    try {
      expect(s.url).toBe(`http://127.0.0.1:${port}`);
      expect((await fetch(s.manifestUrl)).status).toBe(404);
      expect(s.manifest).toEqual({});
    } finally {
      await s.close();
    }
  });
});
