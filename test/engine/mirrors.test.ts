// Mirrors with failover, against artifact servers on real sockets: a mirror
// that dies mid-download is left for the next, which goes on from the byte it
// reached; a mirror that refuses or sends wrong bytes costs only a retry;
// credentials stay with their own origin; the signed manifest may name mirrors.
import { cp, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureVmCacheSynced, parseRoot, type SyncProgress } from '../../main/engine/index.js';
import { server, tempRoot } from '../helpers.js';
import { publish, release, sha256, twoVersions } from './delta-fixtures.js';

/** One release on two servers: `primary` (manifest and tarball) and `mirror` (a copy, with its own validators). */
async function twoServers() {
  const primaryDir = await tempRoot();
  const rel = await release('1', twoVersions(4 << 20).v1);
  await publish(primaryDir, { ...rel, noIndex: true }, 1);
  const mirrorDir = await tempRoot();
  await cp(primaryDir, mirrorDir, { recursive: true });
  // Another mtime: the mirror's ETag differs, as two CDNs' do for the same bytes.
  await utimes(path.join(mirrorDir, rel.key), new Date(2020, 0, 1), new Date(2020, 0, 1));
  const primary = await server({ dir: primaryDir });
  const mirror = await server({ dir: mirrorDir });
  return { primary, mirror, rel, root: await tempRoot() };
}

const placed = async (root: string, key: string) => sha256(await readFile(path.join(root, 'cache', key)));

describe('mirrors', () => {
  it('a mirror that dies mid-download: the next root goes on from the byte it reached, without If-Range', async () => {
    const { primary, mirror, rel, root } = await twoServers();
    const cut = 1_500_000;
    mirror.setFault(rel.key, { resetAtByte: cut });
    await ensureVmCacheSynced({ root, manifestUrl: primary.manifestUrl, mirrors: [mirror.url] });
    expect(await placed(root, rel.key)).toBe(sha256(rel.bytes));
    // The mirror was asked first, and sent about `cut` bytes before it died.
    const fromMirror = mirror.requests.filter((r) => r.path === rel.key);
    expect(fromMirror).toHaveLength(1);
    const reached = fromMirror[0]!.bytesSent;
    expect(reached).toBeGreaterThan(0);
    expect(reached).toBeLessThanOrEqual(cut);
    // The primary was asked for the rest only: no byte twice, and the mirror's ETag not sent to it.
    const fromPrimary = primary.requests.filter((r) => r.path === rel.key);
    expect(fromPrimary).toHaveLength(1);
    const start = Number(/^bytes=(\d+)-$/.exec(fromPrimary[0]!.range ?? '')?.[1]);
    expect(start).toBeGreaterThan(0);
    expect(start).toBeLessThanOrEqual(reached);
    expect(fromPrimary[0]!.ifRange).toBeUndefined();
    expect(start + fromPrimary[0]!.bytesSent).toBe(rel.bytes.length);
  });

  it('a mirror that answers 503, or 404, is left at once for the next root', async () => {
    for (const status of [503, 404]) {
      const { primary, mirror, rel, root } = await twoServers();
      mirror.setFault(rel.key, { status });
      const started = performance.now();
      await ensureVmCacheSynced({
        root,
        manifestUrl: primary.manifestUrl,
        mirrors: [mirror.url],
        retries: 3,
        // A backoff of 30 to 60 s: a retry between roots cannot hide in a loaded machine's
        // noise (the default's 250-500 ms fitted under the bound below with room to spare).
        retryPolicy: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
      });
      expect(await placed(root, rel.key)).toBe(sha256(rel.bytes));
      expect(mirror.requests.filter((r) => r.path === rel.key)).toHaveLength(1);
      expect(primary.bytesServed(rel.key)).toBe(rel.bytes.length);
      // No backoff between roots: a sync of 4 MiB, fsyncs included, far from the 30 s a retry would wait.
      expect(performance.now() - started).toBeLessThan(15_000);
    }
    // Room for a broken sync's 30 s backoff to reach the assertion instead of the timeout.
  }, 60_000);

  it('a mirror that sends wrong bytes costs one download: the next root sends the right ones', async () => {
    const { primary, mirror, rel, root } = await twoServers();
    mirror.setFault(rel.key, { corruptByteAt: 1_000_000 });
    await ensureVmCacheSynced({ root, manifestUrl: primary.manifestUrl, mirrors: [mirror.url] });
    expect(await placed(root, rel.key)).toBe(sha256(rel.bytes));
    expect(primary.bytesServed(rel.key)).toBe(rel.bytes.length);
  });

  it("a mirror's credentials (user:password in its URL) are sent to it and never to another root", async () => {
    const { primary, mirror, rel, root } = await twoServers();
    mirror.setFault(rel.key, { resetAtByte: 500_000 });
    const withCredentials = mirror.url.replace('http://', 'http://user:secret@');
    await ensureVmCacheSynced({ root, manifestUrl: primary.manifestUrl, mirrors: [withCredentials] });
    expect(await placed(root, rel.key)).toBe(sha256(rel.bytes));
    const sent = mirror.requests.find((r) => r.path === rel.key)!;
    expect(sent.authorization).toBe(`Basic ${Buffer.from('user:secret').toString('base64')}`);
    expect(primary.requests.every((r) => r.authorization === undefined)).toBe(true);
  });

  it('mirrors named in the manifest are tried after its own root; an http mirror elsewhere is refused first', async () => {
    const { primary, mirror, rel, root } = await twoServers();
    const doc = { ...primary.manifest, mirrors: [mirror.url] };
    primary.setManifest(doc);
    primary.setFault(rel.key, { status: 503 });
    await ensureVmCacheSynced({ root, manifestUrl: primary.manifestUrl });
    expect(await placed(root, rel.key)).toBe(sha256(rel.bytes));
    expect(mirror.bytesServed(rel.key)).toBe(rel.bytes.length);

    const other = await tempRoot();
    primary.setManifest({
      ...doc,
      mirrors: ['http://mirror.example.com/vm'],
      updatedAt: '2026-11-30T00:00:00.000Z',
    });
    const before = primary.requests.length;
    await expect(
      ensureVmCacheSynced({ root: other, manifestUrl: primary.manifestUrl }),
    ).rejects.toMatchObject({
      code: 'ERR_INSECURE_URL',
    });
    expect(primary.requests.slice(before).map((r) => r.path)).toEqual(['vm/manifest.json']);
  });

  it('a root that answers a resume with 503 keeps the partial: the next root is asked for the rest only', async () => {
    const { primary, mirror, rel, root } = await twoServers();
    const second = await server({ dir: await tempRoot() });
    mirror.setFault(rel.key, { resetAtByte: 1_500_000 });
    second.setFault(rel.key, { status: 503 });
    await ensureVmCacheSynced({ root, manifestUrl: primary.manifestUrl, mirrors: [mirror.url, second.url] });
    expect(await placed(root, rel.key)).toBe(sha256(rel.bytes));
    // One request to the refusing root (not a second one without Range), and the primary sends the rest.
    expect(second.requests.filter((r) => r.path === rel.key)).toHaveLength(1);
    const rest = primary.requests.filter((r) => r.path === rel.key);
    expect(rest).toHaveLength(1);
    expect(rest[0]!.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(mirror.bytesServed(rel.key) + primary.bytesServed(rel.key)).toBeLessThanOrEqual(
      rel.bytes.length + 65_536,
    );
  });

  it('a mirror that lacks the file does not stop the retry of a root that only dropped a connection', async () => {
    const { primary, mirror, rel, root } = await twoServers();
    const lagging = { ...primary.manifest, mirrors: [mirror.url] };
    primary.setManifest(lagging);
    primary.setFault(rel.key, { resetAtByte: 1_500_000, times: 1 });
    mirror.setFault(rel.key, { status: 404 });
    await ensureVmCacheSynced({
      root,
      manifestUrl: primary.manifestUrl,
      retries: 3,
      retryPolicy: { baseDelayMs: 1, maxDelayMs: 1 },
    });
    expect(await placed(root, rel.key)).toBe(sha256(rel.bytes));
    // The retry went on from the byte the primary reached.
    const asked = primary.requests.filter((r) => r.path === rel.key);
    expect(asked.at(-1)!.range).toMatch(/^bytes=[1-9]\d*-$/);
  });

  it("a mirror's wrong bytes finished by another root: that root is asked once more from zero, and it verifies", async () => {
    const { primary, mirror, rel, root } = await twoServers();
    mirror.setFault(rel.key, { corruptByteAt: 100_000, resetAtByte: 1_500_000 });
    await ensureVmCacheSynced({ root, manifestUrl: primary.manifestUrl, mirrors: [mirror.url] });
    expect(await placed(root, rel.key)).toBe(sha256(rel.bytes));
    const asked = primary.requests.filter((r) => r.path === rel.key);
    expect(asked.map((r) => (r.range ? 'rest' : 'whole'))).toEqual(['rest', 'whole']);
  });

  it('credentials never reach the sidecar or a message', async () => {
    const { primary, mirror, rel, root } = await twoServers();
    mirror.setFault(rel.key, { dripBytesPerSec: 2_000_000 });
    const withCredentials = mirror.url.replace('http://', 'http://user:s3cret@');
    const controller = new AbortController();
    const running = ensureVmCacheSynced({
      root,
      manifestUrl: primary.manifestUrl,
      mirrors: [withCredentials],
      signal: controller.signal,
    });
    const sidecar = path.join(root, 'cache', `${rel.key}.partial.json`);
    const { existsSync } = await import('node:fs');
    while (!existsSync(sidecar)) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    await running.catch(() => {});
    const text = await readFile(sidecar, 'utf8');
    expect(text).toContain(mirror.url);
    expect(text).not.toContain('s3cret');
    const err = await ensureVmCacheSynced({
      root: await tempRoot(),
      manifestUrl: primary.manifestUrl,
      mirrors: ['http://user:s3cret@mirror.example.com/vm'],
    }).catch((e: unknown) => e as Error);
    expect(err).toMatchObject({ code: 'ERR_INSECURE_URL' });
    expect((err as Error).message).not.toContain('s3cret');
  });

  it('a manifest from another host may not name a mirror on this machine', () => {
    expect(() => parseRoot('http://127.0.0.1:9/vm', false, true)).toThrow(
      /may not send downloads to this machine/,
    );
    expect(() => parseRoot('https://cdn.example.com/vm?x=1', false)).toThrow(/no query or fragment/);
    expect(parseRoot('https://u:p@cdn.example.com/vm/', false)).toEqual({
      root: 'https://cdn.example.com/vm',
      authorization: `Basic ${Buffer.from('u:p').toString('base64')}`,
    });
  });
});

describe('mirrors and delta updates', () => {
  it("with the primary refusing the new tarball and its index, the manifest's mirror gives both: still a delta", async () => {
    const dir = await tempRoot();
    const { v1, v2 } = twoVersions();
    const [r1, r2] = [await release('1', v1), await release('2', v2)];
    await publish(dir, r1, 1);
    const primary = await server({ dir });
    const root = await tempRoot();
    await ensureVmCacheSynced({ root, manifestUrl: primary.manifestUrl });
    await publish(dir, r2, 2);
    const copy = await tempRoot();
    await cp(dir, copy, { recursive: true });
    const mirror = await server({ dir: copy });
    // The signed manifest names the mirror, after its own root.
    const manifestFile = path.join(dir, 'vm', 'manifest.json');
    const doc = JSON.parse(await readFile(manifestFile, 'utf8'));
    await writeFile(manifestFile, `${JSON.stringify({ ...doc, mirrors: [mirror.url] }, null, 2)}\n`);
    primary.setFault(r2.key, { status: 503 });
    primary.setFault(`${r2.key}.chunks.json`, { status: 503 });
    const events: SyncProgress[] = [];
    await ensureVmCacheSynced({
      root,
      manifestUrl: primary.manifestUrl,
      retries: 3,
      onProgress: (p) => events.push(p),
    });
    expect(await placed(root, r2.key)).toBe(sha256(r2.bytes));
    const delta = events.at(-1)!.artifacts[0]!.delta!;
    expect(delta.fallback).toBeUndefined();
    expect(mirror.bytesServed(r2.key)).toBe(delta.fetchBytes);
    expect(mirror.bytesServed(r2.key)).toBeLessThan(r2.bytes.length * 0.15);
    expect(mirror.requests.filter((r) => r.path === `${r2.key}.chunks.json`)).toHaveLength(1);
    expect(primary.bytesServed(r2.key)).toBe(0);
  });
});
