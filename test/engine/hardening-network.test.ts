// The network side, hardened (issue #13): loopback is an address, not a
// prefix; every redirect hop is judged before it is requested, on both
// transports; a tarball served with a Content-Encoding is stored as sent (got)
// or refused in words (fetch, which cannot give the bytes as sent); public keys
// and oversized .sig files are refused with reasons. Real servers on
// 127.0.0.1, written here because each answers one odd way.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureVmCacheSynced, getCachedManifestPath } from '../../main/engine/index.js';
import { fetchManifestOnce } from '../../main/engine/manifest-fetch.js';
import { isLoopbackHost, resolveOptions } from '../../main/engine/options.js';
import { SIGNATURE_MAX_BYTES } from '../../main/engine/signature.js';
import { assertRedirectAllowed } from '../../main/engine/url-policy.js';
import { listFiles, tempRoot } from '../helpers.js';

// ---- a small server whose every answer the test chooses ----

interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, base: string) => void;

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function serve(routes: Record<string, Handler>): Promise<{ base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  let base = '';
  const server = http.createServer((req, res) => {
    const p = new URL(req.url ?? '/', base).pathname;
    seen.push({ path: p, headers: req.headers });
    const route = routes[p];
    if (route) route(req, res, base);
    else res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { base, seen };
}

const redirect =
  (to: (base: string) => string, status = 302): Handler =>
  (_req, res, base) =>
    res.writeHead(status, { location: to(base), 'content-length': '0' }).end();

const bytes =
  (body: Buffer, headers: Record<string, string> = {}): Handler =>
  (_req, res) =>
    res.writeHead(200, { 'content-length': String(body.length), ...headers }).end(body);

const KEY = 'vm/images/openclaw-1-x64.tar.gz';

function manifestFor(tarball: Buffer): Buffer {
  const doc = {
    schemaVersion: 2,
    updatedAt: '2026-04-24T00:00:00.000Z',
    agents: {
      openclaw: {
        version: '1',
        tarballs: {
          x64: {
            key: KEY,
            sha256: createHash('sha256').update(tarball).digest('hex'),
            sizeBytes: tarball.length,
          },
        },
      },
    },
  };
  return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`);
}

/** What the sync wrote under cache/ (engine bookkeeping elsewhere in the root is not the cache). */
async function cacheFiles(root: string): Promise<string[]> {
  return (await listFiles(root)).filter((f) => f.startsWith('cache/'));
}

/** Byte equality without a deep diff of 300 KB (toEqual on Buffers walks every element). */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.equals(b);
}

const TRANSPORTS = ['got', 'fetch'] as const;
type TransportName = (typeof TRANSPORTS)[number];

function transportOptions(name: TransportName, urls: string[]) {
  if (name === 'got') return {};
  return {
    fetchImpl: (url: string, init?: RequestInit) => {
      urls.push(url);
      return fetch(url, init);
    },
  };
}

const quickRetries = { retries: 3, retryPolicy: { baseDelayMs: 1, maxDelayMs: 5 } };

// ---- 4. loopback and redirects ----

describe('loopback is an address, not a name that starts with 127.', () => {
  it('http://127.attacker.example is refused before any request; 127.1.2.3, [::1] and localhost are loopback', async () => {
    expect(isLoopbackHost('127.1.2.3')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('[::ffff:7f00:1]')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('127.attacker.example')).toBe(false);
    expect(isLoopbackHost('localhost.attacker.invalid')).toBe(false);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('128.0.0.1')).toBe(false);

    for (const manifestUrl of [
      'http://127.attacker.example:9/vm/manifest.json',
      'http://127.0.0.1.attacker.example/vm/manifest.json',
      'http://localhost.attacker.invalid/vm/manifest.json',
    ]) {
      const calls: string[] = [];
      // Stands in for the network: records, never connects.
      const fetchImpl = (url: string) => {
        calls.push(url);
        return Promise.reject(new Error('offline'));
      };
      await expect(
        ensureVmCacheSynced({ root: await tempRoot(), manifestUrl, fetchImpl }),
      ).rejects.toMatchObject({
        code: 'ERR_INSECURE_URL',
      });
      expect(calls).toEqual([]);
    }
    // Every spelling of a 127/8 literal is one; the URL parser normalises them first.
    expect(() => resolveOptions({ manifestUrl: 'http://127.1.2.3:9/vm/manifest.json' })).not.toThrow();
    expect(() => resolveOptions({ manifestUrl: 'http://0x7f.1:9/vm/manifest.json' })).not.toThrow();
    expect(() => resolveOptions({ manifestUrl: 'http://[::1]:9/vm/manifest.json' })).not.toThrow();
  });
});

describe.each(TRANSPORTS)('every redirect hop is checked before it is requested (%s)', (transport) => {
  const tarball = randomBytes(50_000);
  /** A sync from `base` on this transport, with quick retries; resolves to what it rejected with. */
  const syncFrom = (base: string, root: string, urls: string[] = []) =>
    ensureVmCacheSynced({
      root,
      manifestUrl: `${base}/vm/manifest.json`,
      rawHostArch: 'x64',
      ...quickRetries,
      ...transportOptions(transport, urls),
    }).catch((e: unknown) => e);

  it('a cleartext hop to a non-loopback host in the middle of the manifest chain: ERR_INSECURE_URL, the hop never requested, not retried', async () => {
    // 0.0.0.0 is not loopback by the rule, yet reaches this machine: without
    // the check the hop would be fetched and the chain end on 127.0.0.1.
    const s = await serve({
      '/vm/manifest.json': redirect((b) => `${b.replace('127.0.0.1', '0.0.0.0')}/mid/manifest.json`),
      '/mid/manifest.json': redirect((b) => `${b}/real/manifest.json`),
      '/real/manifest.json': bytes(manifestFor(tarball)),
      [`/${KEY}`]: bytes(tarball),
    });
    const urls: string[] = [];
    const root = await tempRoot();
    const err = await syncFrom(s.base, root, urls);
    expect(err).toMatchObject({ code: 'ERR_INSECURE_URL', transient: false });
    expect((err as Error).message).toContain('http://0.0.0.0:');
    expect(s.seen.map((r) => r.path)).toEqual(['/vm/manifest.json']);
    if (transport === 'fetch') expect(urls).toEqual([`${s.base}/vm/manifest.json`]);
    expect(await cacheFiles(root)).toEqual([]);
  });

  it('a tarball redirected to a name that merely starts with 127.: refused before any request to it', async () => {
    const s = await serve({
      '/vm/manifest.json': bytes(manifestFor(tarball)),
      [`/${KEY}`]: redirect((b) => `${b.replace('127.0.0.1', '127.attacker.example')}/${KEY}`, 307),
    });
    const urls: string[] = [];
    const err = await syncFrom(s.base, await tempRoot(), urls);
    expect(err).toMatchObject({ code: 'ERR_INSECURE_URL', transient: false });
    expect((err as Error).message).toContain('http://127.attacker.example:');
    expect(s.seen.map((r) => r.path)).toEqual(['/vm/manifest.json', `/${KEY}`]);
    if (transport === 'fetch') expect(urls.some((u) => u.includes('attacker'))).toBe(false);
  });

  it('a redirect to file:// names the scheme and is not retried as a network fault', async () => {
    for (const target of ['manifest', 'tarball'] as const) {
      const routes: Record<string, Handler> = {
        '/vm/manifest.json': bytes(manifestFor(tarball)),
        [`/${KEY}`]: bytes(tarball),
      };
      routes[target === 'manifest' ? '/vm/manifest.json' : `/${KEY}`] = redirect(() => 'file:///etc/passwd');
      const s = await serve(routes);
      const root = await tempRoot();
      const err = await syncFrom(s.base, root);
      expect(err).toMatchObject({ code: 'ERR_INSECURE_URL', transient: false });
      expect((err as Error).message).toMatch(/file: scheme is never followed/);
      expect((err as Error).message).toContain('file:///etc/passwd');
      const refused = target === 'manifest' ? '/vm/manifest.json' : `/${KEY}`;
      expect(s.seen.filter((r) => r.path === refused)).toHaveLength(1);
      expect(await cacheFiles(root)).toEqual([]);
    }
  });
});

describe('a remote server may not redirect to this machine (request forgery)', () => {
  it('the rule: any host that reaches this machine, from one that does not; a chain already here may stay', () => {
    const remote = 'https://cdn.example.com/vm/manifest.json';
    for (const local of [
      'http://127.0.0.1:8080/admin',
      'http://localhost/admin',
      'http://localhost./admin',
      'http://router.localhost/admin',
      'http://0.0.0.0:8080/admin',
      'http://[::]:8080/admin',
      'http://[::1]/admin',
      'https://127.0.0.2/admin',
    ]) {
      expect(() => assertRedirectAllowed(remote, local, true), local).toThrow(
        'a remote server may not redirect to this machine',
      );
    }
    expect(() => assertRedirectAllowed('http://127.0.0.1:9/a', 'http://localhost:9/b', false)).not.toThrow();
    expect(() => assertRedirectAllowed(remote, 'https://mirror.example.org/x', false)).not.toThrow();
  });

  it('through the fetch transport: the hop to 127.0.0.1 is refused before it is requested', async () => {
    const tarball = randomBytes(1000);
    const s = await serve({
      '/vm/manifest.json': redirect((b) => `${b}/admin/manifest.json`),
      '/admin/manifest.json': bytes(manifestFor(tarball)),
    });
    // A stand-in for DNS: remote.test is a host elsewhere that this server plays.
    const port = new URL(s.base).port;
    const requested: string[] = [];
    const fetchImpl = (url: string, init?: RequestInit) => {
      requested.push(url);
      return fetch(url.replace(`remote.test:${port}`, `127.0.0.1:${port}`), init);
    };
    const err = await ensureVmCacheSynced({
      root: await tempRoot(),
      manifestUrl: `http://remote.test:${port}/vm/manifest.json`,
      allowInsecureHttp: true,
      rawHostArch: 'x64',
      fetchImpl,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_INSECURE_URL', transient: false });
    expect((err as Error).message).toContain('a remote server may not redirect to this machine');
    expect(requested).toEqual([`http://remote.test:${port}/vm/manifest.json`]);
    expect(s.seen.map((r) => r.path)).toEqual(['/vm/manifest.json']);
  });
});

describe('the fetch transport follows redirects itself', () => {
  it('one fetchImpl call per hop, each with redirect: manual; a fetchImpl that cannot hand them over (net.fetch) still arrives', async () => {
    const tarball = randomBytes(20_000);
    const s = await serve({
      '/vm/manifest.json': redirect((b) => `${b}/moved/manifest.json`, 301),
      '/moved/manifest.json': bytes(manifestFor(tarball)),
      [`/${KEY}`]: redirect(() => `/blobs/${KEY}`, 302),
      [`/blobs/${KEY}`]: bytes(tarball),
    });
    const calls: Array<{ url: string; redirect: RequestInit['redirect'] }> = [];
    const fetchImpl = (url: string, init?: RequestInit) => {
      calls.push({ url, redirect: init?.redirect });
      return fetch(url, init);
    };
    const root = await tempRoot();
    const o = { manifestUrl: `${s.base}/vm/manifest.json`, rawHostArch: 'x64' };
    const result = await ensureVmCacheSynced({ ...o, root, fetchImpl });
    expect(result.downloaded).toEqual([KEY]);
    expect(calls).toEqual([
      { url: `${s.base}/vm/manifest.json`, redirect: 'manual' },
      { url: `${s.base}/moved/manifest.json`, redirect: 'manual' },
      { url: `${s.base}/${KEY}`, redirect: 'manual' },
      { url: `${s.base}/blobs/${KEY}`, redirect: 'manual' },
    ]);
    expect(sameBytes(await readFile(path.join(root, 'cache', KEY)), tarball)).toBe(true);

    // Electron's net.fetch rejects a manual redirect ("Redirect was cancelled",
    // its ClientRequest semantics) and never shows the Location: this stands
    // in for it. The transport then lets it follow on its own, once learned.
    const netFetchCalls: Array<RequestInit['redirect']> = [];
    const netFetchLike = async (url: string, init?: RequestInit) => {
      netFetchCalls.push(init?.redirect);
      const res = await fetch(url, init);
      if (init?.redirect === 'manual' && res.status >= 300 && res.status < 400) {
        await res.body?.cancel();
        throw new Error('Redirect was cancelled');
      }
      return res;
    };
    const again = await ensureVmCacheSynced({ ...o, root: await tempRoot(), fetchImpl: netFetchLike });
    expect(again.downloaded).toEqual([KEY]);
    expect(netFetchCalls).toEqual(['manual', 'follow', 'follow']);
  });
});

// ---- 5. Content-Encoding on a tarball ----

/** A tarball whose object metadata says `Content-Encoding: gzip`: its bytes ARE the gzip stream. */
async function encodedTarballServer(options: { cutAt?: number } = {}) {
  const sent = gzipSync(randomBytes(300_000));
  let cut = options.cutAt;
  const s = await serve({
    '/vm/manifest.json': bytes(manifestFor(sent)),
    [`/${KEY}`]: (req, res) => {
      const headers = {
        'content-type': 'application/gzip',
        'content-encoding': 'gzip',
        etag: '"v1"',
        'accept-ranges': 'bytes',
      };
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (range && req.headers['if-range'] === '"v1"') {
        const start = Number(range[1]);
        res.writeHead(206, {
          ...headers,
          'content-range': `bytes ${start}-${sent.length - 1}/${sent.length}`,
          'content-length': String(sent.length - start),
        });
        res.end(sent.subarray(start));
        return;
      }
      res.writeHead(200, { ...headers, 'content-length': String(sent.length) });
      if (cut === undefined) {
        res.end(sent);
        return;
      }
      // The first answer breaks off: what was kept must line up with a Range over the same bytes.
      res.write(sent.subarray(0, cut), () => res.destroy());
      cut = undefined;
    },
  });
  return { s, sent };
}

describe('a tarball served with Content-Encoding: gzip', () => {
  it('got stores the bytes as sent (as curl -o does), and a resume with Range lines up with them', async () => {
    const { s, sent } = await encodedTarballServer();
    const root = await tempRoot();
    const result = await ensureVmCacheSynced({
      root,
      manifestUrl: `${s.base}/vm/manifest.json`,
      rawHostArch: 'x64',
    });
    expect(result.downloaded).toEqual([KEY]);
    expect(sameBytes(await readFile(path.join(root, 'cache', KEY)), sent)).toBe(true);

    const cutAt = 64 * 1024;
    const r = await encodedTarballServer({ cutAt });
    const resumed = await tempRoot();
    await ensureVmCacheSynced({
      root: resumed,
      manifestUrl: `${r.s.base}/vm/manifest.json`,
      rawHostArch: 'x64',
      ...quickRetries,
    });
    expect(sameBytes(await readFile(path.join(resumed, 'cache', KEY)), r.sent)).toBe(true);
    const tarballRequests = r.s.seen.filter((x) => x.path === `/${KEY}`);
    expect(tarballRequests).toHaveLength(2);
    const offset = Number(/^bytes=(\d+)-$/.exec(tarballRequests[1]!.headers.range ?? '')?.[1]);
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThanOrEqual(cutAt);
  });

  it('fetch cannot give the bytes as sent: one clear, non-transient error naming the header, nothing kept', async () => {
    const { s } = await encodedTarballServer();
    const root = await tempRoot();
    const err = await ensureVmCacheSynced({
      root,
      manifestUrl: `${s.base}/vm/manifest.json`,
      rawHostArch: 'x64',
      fetchImpl: (url, init) => fetch(url, init),
      ...quickRetries,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_DOWNLOAD_HTTP', transient: false });
    expect((err as Error).message).toContain('Content-Encoding: gzip');
    expect((err as Error).message).toMatch(/publisher must serve tarballs as plain bytes/);
    expect(s.seen.filter((r) => r.path === `/${KEY}`)).toHaveLength(1);
    expect(await cacheFiles(root)).toEqual([]);
  });
});

// ---- small items: public keys, the .sig cap ----

describe('public keys and signatures', () => {
  it('a public key of the wrong length or shape says what is wrong, before any request', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const cases: Array<[string, RegExp]> = [
      [randomBytes(31).toString('base64'), /expected 32 bytes, got 31\b/],
      [randomBytes(33).toString('base64'), /expected 32 bytes, got 33\b/],
      [
        randomBytes(31).toString('hex'),
        /expected 32 bytes \(64 hex characters\), got 31 bytes \(62 hex characters\)/,
      ],
      [`z${randomBytes(32).toString('hex').slice(1)}`, /"z" at character 1 is not a hex digit/],
      ['   ', /it is empty/],
      ['not a key!!', /neither hex nor base64/],
      [privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), /PRIVATE key/],
    ];
    for (const [key, says] of cases) {
      const calls: string[] = [];
      const fetchImpl = (url: string) => {
        calls.push(url);
        return Promise.reject(new Error('offline'));
      };
      await expect(
        ensureVmCacheSynced({
          root: await tempRoot(),
          manifestUrl: 'http://127.0.0.1:9/vm/manifest.json',
          fetchImpl,
          publicKey: key,
        }),
      ).rejects.toMatchObject({ code: 'ERR_SIGNATURE', message: expect.stringMatching(says) });
      expect(calls).toEqual([]);
    }
    // A private KeyObject is refused too; the raw key as hex still works.
    expect(() => resolveOptions({ manifestUrl: 'http://127.0.0.1:9/m', publicKey: privateKey })).toThrow(
      /PRIVATE key/,
    );
    const hex = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url').toString('hex');
    expect(resolveOptions({ manifestUrl: 'http://127.0.0.1:9/m', publicKey: hex }).publicKey?.type).toBe(
      'public',
    );
  });

  it('fetchManifestOnce stops reading at its maxBytes: a .sig that keeps coming is refused after a few KiB', async () => {
    let hungUp = false;
    const s = await serve({
      // No Content-Length: only counting the bytes can stop it. 8 KiB, then it holds the line.
      '/vm/manifest.json.sig': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write(Buffer.alloc(8192, 0x41));
        res.on('close', () => {
          hungUp = true;
        });
      },
    });
    const opts = resolveOptions({ manifestUrl: `${s.base}/vm/manifest.json`, timeoutMs: 5000 });
    await expect(
      fetchManifestOnce(opts, `${s.base}/vm/manifest.json.sig`, SIGNATURE_MAX_BYTES),
    ).rejects.toMatchObject({
      message: expect.stringContaining(`larger than ${SIGNATURE_MAX_BYTES} bytes`),
    });
    expect(SIGNATURE_MAX_BYTES).toBeLessThanOrEqual(8192);
    // The server hears the hang-up in a later turn of the loop; 3 s (not the poll's default
    // 1 s) for a loaded machine, still short of the 5 s timeout that would end a client that kept reading.
    await expect.poll(() => hungUp, { timeout: 3_000 }).toBe(true);
  });

  // Passes once sync.ts's checkSignature passes SIGNATURE_MAX_BYTES to fetchManifestOnce.
  it('a 1 MB .sig is refused with ERR_SIGNATURE as too large for a signature; reading stops early', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const tarball = randomBytes(1000);
    const manifest = manifestFor(tarball);
    let hungUp = false;
    const s = await serve({
      '/vm/manifest.json': bytes(manifest),
      '/declared/manifest.json': bytes(manifest),
      // Declared: refused on its Content-Length alone.
      '/declared/manifest.json.sig': bytes(Buffer.alloc(1024 * 1024, 0x41)),
      // Undeclared: the first 8 KiB of 1 MB, then nothing until the client gives up on it.
      '/vm/manifest.json.sig': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write(Buffer.alloc(8192, 0x41));
        res.on('close', () => {
          hungUp = true;
        });
      },
    });
    for (const manifestUrl of [`${s.base}/declared/manifest.json`, `${s.base}/vm/manifest.json`]) {
      const root = await tempRoot();
      await expect(
        ensureVmCacheSynced({
          root,
          manifestUrl,
          rawHostArch: 'x64',
          publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          timeoutMs: 5000,
        }),
      ).rejects.toMatchObject({
        code: 'ERR_SIGNATURE',
        message: expect.stringContaining(`larger than ${SIGNATURE_MAX_BYTES} bytes`),
      });
      expect(await listFiles(root)).not.toContain(path.relative(root, getCachedManifestPath(root)));
    }
    // As above: 3 s for a loaded machine, short of the 5 s timeoutMs that would end a client that kept reading.
    await expect.poll(() => hungUp, { timeout: 3_000 }).toBe(true);
  });
});
