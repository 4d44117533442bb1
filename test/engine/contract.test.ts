// The twelve observable behaviours of the engine contract (see the brief),
// each against a real artifact server on 127.0.0.1, and through an injected
// fetchImpl where the contract says how it is called.
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ensureVmCacheAvailable,
  ensureVmCacheSynced,
  getCachedManifestPath,
  prefetchVmCache,
} from '../../main/engine/index.js';
import { countingFetch, entryOf, keyOf, listFiles, oneArtifactServer, server, tempRoot } from '../helpers.js';

const tarballRequests = (s: { requests: { path: string }[] }) =>
  s.requests.filter((r) => r.path.endsWith('.tar.gz'));

describe('engine contract', () => {
  it('1. fresh root: exactly manifest then tarball, the result, the files', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    const fetchImpl = countingFetch();
    const key = keyOf(s);
    const result = await ensureVmCacheSynced({
      root,
      manifestUrl: s.manifestUrl,
      fetchImpl,
      rawHostArch: 'x64',
    });

    expect(result).toEqual({ downloaded: [key], manifestPath: getCachedManifestPath(root), skipped: false });
    expect(fetchImpl.calls.map((c) => c.url)).toEqual([s.manifestUrl, `${s.url}/${key}`]);
    expect(s.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET vm/manifest.json', `GET ${key}`]);
    expect(await readFile(path.join(root, 'cache', key))).toEqual(s.contentOf(key));
    expect(existsSync(path.join(root, 'cache', `${key}.partial`))).toBe(false);
    expect(await listFiles(path.join(root, 'cache'))).toEqual([key, 'vm/manifest.json'].sort());
    expect(JSON.parse(await readFile(getCachedManifestPath(root), 'utf8'))).toEqual(s.manifest);
  });

  it('1. fresh root with the default (got) transport: the same two requests', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    const key = keyOf(s);
    const result = await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect(result.downloaded).toEqual([key]);
    expect(s.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET vm/manifest.json', `GET ${key}`]);
    expect(await readFile(path.join(root, 'cache', key))).toEqual(s.contentOf(key));
  });

  it('the manifest request is issued synchronously, with a URL string', async () => {
    const s = await oneArtifactServer();
    const fetchImpl = countingFetch();
    const p = ensureVmCacheSynced({
      root: await tempRoot(),
      manifestUrl: s.manifestUrl,
      fetchImpl,
      rawHostArch: 'x64',
    });
    expect(fetchImpl.calls).toHaveLength(1);
    expect(fetchImpl.calls[0]!.argType).toBe('string');
    await p;
    expect(fetchImpl.calls.every((c) => c.argType === 'string')).toBe(true);
  });

  it('2. the cached manifest is the remote document byte for byte, unknown fields kept', async () => {
    const s = await oneArtifactServer();
    const doc = structuredClone(s.manifest) as Record<string, unknown> & {
      agents: Record<string, Record<string, unknown>>;
    };
    doc.publisher = { name: 'Example', note: 'unknown top-level field' };
    doc.agents.openclaw!.extra = [1, 2, 3];
    (doc.agents.openclaw!.tarballs as Record<string, Record<string, unknown>>).x64!.compression = 'gzip';
    // Served compact: the cache must hold the document re-serialised the contract's way.
    s.setManifest(JSON.stringify(doc));
    const root = await tempRoot();
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect(await readFile(getCachedManifestPath(root), 'utf8')).toBe(`${JSON.stringify(doc, null, 2)}\n`);
  });

  it('2. the manifest is written only after every tarball is in place', async () => {
    const s = await server({
      artifacts: [
        { agent: 'a', version: '1', arch: 'x64', sizeBytes: 100_000 },
        { agent: 'b', version: '1', arch: 'x64', sizeBytes: 150_000 },
        { agent: 'b', version: '1', arch: 'arm64', sizeBytes: 120_000 },
      ],
    });
    const root = await tempRoot();
    const seen: boolean[] = [];
    const fetchImpl = (url: string, init?: RequestInit) => {
      if (url.endsWith('.tar.gz')) seen.push(existsSync(getCachedManifestPath(root)));
      return fetch(url, init);
    };
    const result = await ensureVmCacheSynced({
      root,
      manifestUrl: s.manifestUrl,
      fetchImpl,
      allArches: true,
      concurrency: 1,
    });
    expect(result.downloaded).toHaveLength(3);
    expect(seen).toEqual([false, false, false]);
    expect(existsSync(getCachedManifestPath(root))).toBe(true);
    // No temp file of the atomic write is left behind.
    expect((await listFiles(path.join(root, 'cache'))).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('3. manifest and tarball match: only the manifest is requested, and the tarball is not re-hashed', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    const key = keyOf(s);
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    // Same size, other bytes: only a re-hash could notice, and the warm path must not re-hash.
    const file = path.join(root, 'cache', key);
    await writeFile(file, Buffer.alloc(entryOf(s).sizeBytes, 7));
    const before = s.requests.length;
    const fetchImpl = countingFetch();
    const result = await ensureVmCacheSynced({
      root,
      manifestUrl: s.manifestUrl,
      fetchImpl,
      rawHostArch: 'x64',
    });
    expect(result).toEqual({ downloaded: [], manifestPath: getCachedManifestPath(root), skipped: true });
    expect(fetchImpl.calls.map((c) => c.url)).toEqual([s.manifestUrl]);
    expect(s.requests.slice(before).map((r) => r.path)).toEqual(['vm/manifest.json']);
    expect((await readFile(file))[0]).toBe(7);
  });

  it('4. manifest matches but the tarball is missing: it is downloaded', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    const key = keyOf(s);
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    await rm(path.join(root, 'cache', key));
    const result = await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect(result).toEqual({ downloaded: [key], manifestPath: getCachedManifestPath(root), skipped: false });
    expect(await readFile(path.join(root, 'cache', key))).toEqual(s.contentOf(key));
  });

  it('5. tarball present, manifest missing, sha256 matches: no download, manifest written', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    const key = keyOf(s);
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    await rm(getCachedManifestPath(root));
    const before = s.requests.length;
    const result = await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect(result).toEqual({ downloaded: [], manifestPath: getCachedManifestPath(root), skipped: true });
    expect(s.requests.slice(before).map((r) => r.path)).toEqual(['vm/manifest.json']);
    expect(JSON.parse(await readFile(getCachedManifestPath(root), 'utf8'))).toEqual(s.manifest);
    expect(await readFile(path.join(root, 'cache', key))).toEqual(s.contentOf(key));
  });

  it('5. tarball present with other bytes and no manifest: hashed, found wrong, downloaded', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    const key = keyOf(s);
    const file = path.join(root, 'cache', key);
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    await rm(getCachedManifestPath(root));
    await writeFile(file, Buffer.alloc(entryOf(s).sizeBytes, 1));
    const result = await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect(result.downloaded).toEqual([key]);
    expect(await readFile(file)).toEqual(s.contentOf(key));
  });

  it('6. concurrent calls for the same root, URL and arch set share one promise', async () => {
    const s = await oneArtifactServer();
    const o = { root: await tempRoot(), manifestUrl: s.manifestUrl, rawHostArch: 'x64' };
    const a = prefetchVmCache(o);
    const b = prefetchVmCache(o);
    const c = ensureVmCacheSynced({ ...o });
    expect(a).toBe(b);
    expect(c).toBe(a);
    await a;
    expect(s.requests.filter((r) => r.path === 'vm/manifest.json')).toHaveLength(1);
    // Another arch set is another sync.
    const d = ensureVmCacheSynced({ ...o, allArches: true });
    expect(d).not.toBe(a);
    await d;
  });

  it('7. different roots sync independently, even while another sync is in flight', async () => {
    const s = await oneArtifactServer();
    s.setFault(keyOf(s), { dripBytesPerSec: 1_000_000 });
    const rootA = await tempRoot();
    const rootB = await tempRoot();
    const a = ensureVmCacheSynced({ root: rootA, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    const b = ensureVmCacheSynced({ root: rootB, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect(a).not.toBe(b);
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.downloaded).toEqual([keyOf(s)]);
    expect(rb.downloaded).toEqual([keyOf(s)]);
    expect(tarballRequests(s)).toHaveLength(2);
  });

  it('8. ensureVmCacheAvailable waits for an in-flight sync, ignores its failure, then syncs', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    s.setFault('vm/manifest.json', { status: 503, times: 1, delayMs: 100 });
    const failing = ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    const available = ensureVmCacheAvailable({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    await expect(failing).rejects.toThrow(/manifest fetch failed/);
    const result = await available;
    expect(result.downloaded).toEqual([keyOf(s)]);
    expect(existsSync(getCachedManifestPath(root))).toBe(true);
  });

  it('8. ensureVmCacheAvailable waits for an in-flight sync that succeeds and returns without a new one', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    const sync = ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    const result = await ensureVmCacheAvailable({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    await sync;
    expect(result).toEqual({ downloaded: [], manifestPath: getCachedManifestPath(root), skipped: true });
    expect(s.requests.filter((r) => r.path === 'vm/manifest.json')).toHaveLength(1);
  });

  it('8. ensureVmCacheAvailable returns at once, with no request, when a cache exists (offline)', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    await s.close();
    const fetchImpl = countingFetch();
    const result = await ensureVmCacheAvailable({
      root,
      manifestUrl: s.manifestUrl,
      fetchImpl,
      rawHostArch: 'x64',
    });
    expect(result.skipped).toBe(true);
    expect(fetchImpl.calls).toHaveLength(0);
  });

  it('9. a failed sync leaves the in-flight map: the next call starts afresh', async () => {
    const s = await oneArtifactServer();
    const o = { root: await tempRoot(), manifestUrl: s.manifestUrl, rawHostArch: 'x64' };
    s.setFault('vm/manifest.json', { status: 500, times: 1 });
    const first = ensureVmCacheSynced(o);
    await expect(first).rejects.toThrow(/manifest fetch failed/);
    const second = ensureVmCacheSynced(o);
    expect(second).not.toBe(first);
    expect((await second).downloaded).toEqual([keyOf(s)]);
  });

  it('10. a sha256 mismatch rejects and leaves neither the file nor the partial', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    const key = keyOf(s);
    s.setFault(key, { corruptByteAt: 1234 });
    await expect(
      ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' }),
    ).rejects.toMatchObject({
      code: 'ERR_SHA256_MISMATCH',
      message: expect.stringContaining('sha256 mismatch'),
    });
    expect(await listFiles(path.join(root, 'cache'))).toEqual([]);
  });

  it('10. a body that ends cleanly but short is a sha256 mismatch too', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    const key = keyOf(s);
    s.setFault(key, { body: s.contentOf(key).subarray(0, 1000) });
    await expect(
      ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' }),
    ).rejects.toThrow(/sha256 mismatch/);
    expect(await listFiles(path.join(root, 'cache'))).toEqual([]);
  });

  it('10. a body longer than sizeBytes is cut off and rejected; nothing stays on disk', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    const key = keyOf(s);
    s.setFault(key, { extraBytes: 5000 });
    await expect(
      ensureVmCacheSynced({
        root,
        manifestUrl: s.manifestUrl,
        rawHostArch: 'x64',
        fetchImpl: countingFetch(),
      }),
    ).rejects.toThrow(/sha256 mismatch.*more than the 300000 bytes/);
    expect(await listFiles(path.join(root, 'cache'))).toEqual([]);
  });

  it('10. a body that never ends is cut off at once: the stream is cancelled, nothing stays', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    let pulled = 0;
    let cancelled = false;
    const endless = async (url: string, init?: RequestInit) => {
      if (!url.endsWith('.tar.gz')) return fetch(url, init);
      const chunk = new Uint8Array(64 * 1024);
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled += chunk.length;
          controller.enqueue(chunk);
        },
        cancel() {
          cancelled = true;
        },
      });
      return new Response(body, { status: 200 });
    };
    await expect(
      ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, fetchImpl: endless, rawHostArch: 'x64' }),
    ).rejects.toThrow(/sha256 mismatch.*more than the 300000 bytes/);
    expect(cancelled).toBe(true);
    // At most one chunk past sizeBytes (plus the stream's small read-ahead) was ever pulled.
    expect(pulled).toBeLessThan(300_000 + 4 * 64 * 1024);
    expect(await listFiles(path.join(root, 'cache'))).toEqual([]);
  });

  it('11. an unsupported host arch rejects before any request; ia32 uses x64 artifacts', async () => {
    const s = await oneArtifactServer();
    const fetchImpl = countingFetch();
    const root = await tempRoot();
    await expect(
      ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, fetchImpl, rawHostArch: 'mips' }),
    ).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_ARCH', message: 'unsupported host arch: mips' });
    expect(fetchImpl.calls).toHaveLength(0);
    expect(s.requests).toHaveLength(0);
    const result = await ensureVmCacheSynced({
      root,
      manifestUrl: s.manifestUrl,
      fetchImpl,
      rawHostArch: 'ia32',
    });
    expect(result.downloaded).toEqual([keyOf(s, 'openclaw', 'x64')]);
  });

  it('12. a non-2xx manifest response rejects with "manifest fetch failed"', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    for (const status of [404, 500]) {
      s.setFault('vm/manifest.json', { status, times: 1 });
      await expect(
        ensureVmCacheSynced({
          root,
          manifestUrl: s.manifestUrl,
          rawHostArch: 'x64',
          fetchImpl: countingFetch(),
        }),
      ).rejects.toMatchObject({
        code: 'ERR_MANIFEST_FETCH',
        message: expect.stringContaining('manifest fetch failed'),
      });
    }
    expect(await listFiles(root)).toEqual([]);
  });
});

describe('engine options', () => {
  it('takes the manifest URL from VM_CACHE_MANIFEST_URL (trimmed), ignoring an empty one', async () => {
    const s = await oneArtifactServer();
    const saved = process.env.VM_CACHE_MANIFEST_URL;
    try {
      process.env.VM_CACHE_MANIFEST_URL = `  ${s.manifestUrl}  `;
      const fetchImpl = countingFetch();
      await ensureVmCacheSynced({ root: await tempRoot(), fetchImpl, rawHostArch: 'x64' });
      expect(fetchImpl.calls[0]!.url).toBe(s.manifestUrl);
      process.env.VM_CACHE_MANIFEST_URL = '   ';
      await expect(ensureVmCacheSynced({ root: await tempRoot(), rawHostArch: 'x64' })).rejects.toThrow(
        /no manifest URL configured/,
      );
    } finally {
      if (saved === undefined) delete process.env.VM_CACHE_MANIFEST_URL;
      else process.env.VM_CACHE_MANIFEST_URL = saved;
    }
  });

  it('an artifact of another arch may hold placeholders without failing the sync', async () => {
    const s = await oneArtifactServer();
    const doc = structuredClone(s.manifest) as {
      agents: { openclaw: { tarballs: Record<string, unknown> } };
    };
    doc.agents.openclaw.tarballs.arm64 = { key: 'vm/images/unused.tar.gz', sha256: 'unused', sizeBytes: 0 };
    s.setManifest(doc);
    const root = await tempRoot();
    const result = await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
    expect(result.downloaded).toEqual([keyOf(s)]);
    await expect(
      ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'arm64' }),
    ).rejects.toMatchObject({
      code: 'ERR_MANIFEST_INVALID',
      message: expect.stringContaining('agents.openclaw.tarballs.arm64.sha256'),
    });
  });

  it('refuses http: for a non-loopback host before any request, unless allowed', async () => {
    const fetchImpl = countingFetch();
    await expect(
      ensureVmCacheSynced({
        root: await tempRoot(),
        manifestUrl: 'http://cdn.example.com/vm/manifest.json',
        fetchImpl,
      }),
    ).rejects.toMatchObject({ code: 'ERR_INSECURE_URL' });
    expect(fetchImpl.calls).toHaveLength(0);
    const failing = ((url: string) => {
      fetchImpl.calls.push({ url, init: undefined, argType: typeof url });
      return Promise.reject(new Error('offline'));
    }) as typeof fetch;
    await expect(
      ensureVmCacheSynced({
        root: await tempRoot(),
        manifestUrl: 'http://cdn.example.com/vm/manifest.json',
        fetchImpl: failing,
        allowInsecureHttp: true,
      }),
    ).rejects.toMatchObject({ code: 'ERR_MANIFEST_FETCH' });
    expect(fetchImpl.calls).toHaveLength(1);
  });

  it('refuses a redirect from https to http on another host (reported by the transport)', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    // No DNS here for a real non-loopback host: the fetch is real, and the URL it
    // reports is what a redirect to http://cdn.example.com would have produced.
    const downgraded = async (url: string, init?: RequestInit) => {
      const res = await fetch(url.replace('https://cdn.example.com', s.url), init);
      Object.defineProperty(res, 'url', { value: `http://cdn.example.com${new URL(url).pathname}` });
      return res;
    };
    await expect(
      ensureVmCacheSynced({
        root,
        manifestUrl: 'https://cdn.example.com/vm/manifest.json',
        fetchImpl: downgraded,
        rawHostArch: 'x64',
      }),
    ).rejects.toMatchObject({ code: 'ERR_INSECURE_URL' });
    expect(await listFiles(root)).toEqual([]);
  });

  it('derives the artifact root: trailing /vm/manifest.json removed, else the folder; query dropped', async () => {
    const s = await oneArtifactServer();
    const key = keyOf(s);
    const fetchImpl = countingFetch();
    await ensureVmCacheSynced({
      root: await tempRoot(),
      manifestUrl: `${s.manifestUrl}?v=3#x`,
      fetchImpl,
      rawHostArch: 'x64',
    });
    expect(fetchImpl.calls[1]!.url).toBe(`${s.url}/${key}`);
    const { artifactRootOf } = await import('../../main/engine/index.js');
    expect(artifactRootOf('https://cdn.example.com/a/b/manifest-v2.json?x=1')).toBe(
      'https://cdn.example.com/a/b',
    );
    expect(artifactRootOf('https://cdn.example.com/vm/manifest.json')).toBe('https://cdn.example.com');
  });

  it('uses the timeout for a server that never answers', async () => {
    const s = await oneArtifactServer();
    s.setFault('vm/manifest.json', { delayMs: 5000 });
    const started = Date.now();
    await expect(
      ensureVmCacheSynced({
        root: await tempRoot(),
        manifestUrl: s.manifestUrl,
        rawHostArch: 'x64',
        timeoutMs: 200,
      }),
    ).rejects.toMatchObject({ code: 'ERR_MANIFEST_FETCH', message: expect.stringMatching(/within 200 ms/) });
    expect(Date.now() - started).toBeLessThan(4000);
  });
});
