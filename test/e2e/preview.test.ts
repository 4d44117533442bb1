// The preview server without a browser: its WebSocket bridge speaks the
// contract through the real hub (sender check, zod validation, progress
// pushes), refuses other origins and host names, and `npm run preview` starts,
// prints its URL and serves the pages under the app's CSP.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type ClientRequest, type IncomingMessage, request } from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { INVOKE, PROGRESS_CHANNEL } from '../../contract/api.js';
import type { SyncProgress } from '../../contract/progress.js';
import { parsePreviewArgs } from '../../preview/index.js';
import { manifestEntry, preview, REPO } from './harness.js';

type Frame = {
  id?: unknown;
  result?: { ok: boolean; code?: string; value?: unknown };
  channel?: string;
  payload?: unknown;
};

/** A bridge client as the page's would be: collects every frame, answers calls by id. */
async function connect(url: string, origin: string) {
  const ws = new WebSocket(`${url.replace('http:', 'ws:')}/vm-cache-bridge`, { origin });
  const frames: Frame[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(String(data))));
  await once(ws, 'open');
  let nextId = 1;
  const call = async (channel: string, args: unknown = []) => {
    const id = nextId++;
    ws.send(JSON.stringify({ id, channel, args }));
    await expect.poll(() => frames.some((f) => f.id === id), { timeout: 15_000, interval: 10 }).toBe(true);
    return frames.find((f) => f.id === id)!.result!;
  };
  return { ws, frames, call };
}

/** The status of a raw HTTP GET with our own Host header (fetch would not let us set it). */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The HTTP status a refused handshake answered. */
async function refusedWith(ws: WebSocket): Promise<number> {
  const [req, res] = (await once(ws, 'unexpected-response')) as [ClientRequest, IncomingMessage];
  res.resume();
  req.destroy();
  return res.statusCode ?? 0;
}

describe('preview bridge and server (no browser needed)', () => {
  const sockets: WebSocket[] = [];
  afterEach(() => {
    for (const ws of sockets.splice(0)) ws.terminate();
  });

  it('answers the contract over the socket and pushes throttled progress to a subscriber', async () => {
    const p = await preview();
    const client = await connect(p.url, p.url);
    sockets.push(client.ws);

    const status = await client.call(INVOKE.getStatus.channel);
    expect(status).toMatchObject({ ok: true, value: { root: p.root, cached: null, logPath: p.logPath } });
    expect(await client.call(INVOKE.subscribe.channel)).toEqual({ ok: true, value: { subscribed: true } });

    const synced = await client.call(INVOKE.sync.channel);
    expect(synced).toMatchObject({ ok: true, value: { skipped: false } });
    await expect
      .poll(() => client.frames.filter((f) => f.channel === PROGRESS_CHANNEL).at(-1)?.payload, {
        interval: 20,
      })
      .toMatchObject({ phase: 'done' });
    const progress = client.frames
      .filter((f) => f.channel === PROGRESS_CHANNEL)
      .map((f) => f.payload as SyncProgress);
    const first = progress[0]!;
    const last = progress.at(-1)!;
    // 10 per second at most (the hub's throttle), plus the leading and trailing edges.
    expect(progress.length).toBeLessThanOrEqual(((last.at - first.at) / 1000) * 10 + 3);
    expect(new Set(progress.map((p) => p.phase))).toContain('downloading');

    expect(await client.call(INVOKE.verify.channel)).toMatchObject({ ok: true, value: { ok: true } });
    expect(await client.call(INVOKE.setLimitRate.channel, [2048])).toEqual({
      ok: true,
      value: { bytesPerSecond: 2048 },
    });
    expect(p.controller.limitRate).toBe(2048);
    expect(await client.call(INVOKE.getLimitRate.channel)).toEqual({
      ok: true,
      value: { bytesPerSecond: 2048 },
    });
    expect(await client.call(INVOKE.unsubscribe.channel)).toEqual({ ok: true, value: { subscribed: false } });
    expect(p.hub.subscribers).toEqual([]);
  });

  it('refuses bad requests in words, with the request id, and changes nothing', async () => {
    const p = await preview();
    const client = await connect(p.url, p.url);
    sockets.push(client.ws);
    expect(await client.call('vm-cache:rm-rf')).toMatchObject({ ok: false, code: 'ERR_INVALID_REQUEST' });
    expect(await client.call(INVOKE.clear.channel, ['/'])).toMatchObject({
      ok: false,
      code: 'ERR_INVALID_REQUEST',
    });
    expect(await client.call(INVOKE.sync.channel, 'nope')).toMatchObject({
      ok: false,
      code: 'ERR_INVALID_REQUEST',
    });
    for (const args of [['24M'], [-1], [1000], [{}], [], [2048, 2048], 2048]) {
      expect(await client.call(INVOKE.setLimitRate.channel, args), JSON.stringify(args)).toMatchObject({
        ok: false,
        code: 'ERR_INVALID_REQUEST',
      });
    }
    expect(p.controller.limitRate).toBeUndefined();
    client.ws.send('{not json');
    client.ws.send(JSON.stringify({ id: 'x', channel: INVOKE.sync.channel, args: [] }));
    await expect.poll(() => client.frames.filter((f) => f.id === null).length).toBe(2);
    expect(client.frames.filter((f) => f.id === null).map((f) => f.result?.code)).toEqual([
      'ERR_INVALID_REQUEST',
      'ERR_INVALID_REQUEST',
    ]);
    expect(p.controller.syncing).toBe(false);
    expect(p.artifactServer!.requests).toEqual([]);
  });

  it('drops the subscription when the socket closes', async () => {
    const p = await preview();
    const client = await connect(p.url, p.url);
    await client.call(INVOKE.subscribe.channel);
    expect(p.hub.subscribers).toHaveLength(1);
    client.ws.close();
    await expect.poll(() => p.hub.subscribers.length).toBe(0);
  });

  it('turns away another origin at the handshake, and another host name on every request', async () => {
    const p = await preview();
    const ws = new WebSocket(`${p.url.replace('http:', 'ws:')}/vm-cache-bridge`, {
      origin: 'http://evil.example',
    });
    expect(await refusedWith(ws)).toBe(403);
    const noOrigin = new WebSocket(`${p.url.replace('http:', 'ws:')}/vm-cache-bridge`);
    expect(await refusedWith(noOrigin)).toBe(403);

    // DNS rebinding: a name that merely resolves here is not us.
    expect(await getWithHost(p.firstRunUrl, 'evil.example')).toBe(421);
    expect(await getWithHost(p.firstRunUrl, new URL(p.url).host)).toBe(200);
    expect(p.hub.subscribers).toEqual([]);
  });

  it('serves the built pages under the app CSP, nothing outside them, and a POST-only fault control', async () => {
    const p = await preview();
    const page = await fetch(p.firstRunUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("style-src 'self';");
    expect(page.headers.get('content-security-policy')).toContain(`connect-src 'self' ws://127.0.0.1:`);
    expect(await page.text()).toContain('data-mode="first-run"');
    expect((await fetch(`${p.url}/`, { redirect: 'manual' })).headers.get('location')).toBe(
      '/first-run.html',
    );
    expect((await fetch(`${p.url}/..%2fpackage.json`)).status).toBe(404);
    expect((await fetch(`${p.url}/assets/`)).status).toBe(404);

    expect((await fetch(`${p.url}/__preview/fault?fault=corrupt`)).status).toBe(405);
    expect((await fetch(`${p.url}/__preview/fault?fault=bogus`, { method: 'POST' })).status).toBe(400);
    const crossSite = { method: 'POST', headers: { origin: 'http://evil.example' } };
    expect((await fetch(`${p.url}/__preview/fault?fault=corrupt`, crossSite)).status).toBe(403);
    expect((await fetch(`${p.url}/__preview/fault?fault=corrupt`, { method: 'POST' })).status).toBe(200);
    await expect(p.controller.sync()).rejects.toMatchObject({ code: 'ERR_SHA256_MISMATCH' });
    // ?fault= on a page replays the scenario from an empty cache (not when another site links to it).
    await p.controller.sync();
    await fetch(`${p.firstRunUrl}?fault=none`, { headers: { 'sec-fetch-site': 'cross-site' } });
    expect((await p.controller.getStatus()).cached).not.toBeNull();
    expect((await fetch(`${p.firstRunUrl}?fault=fail-once`)).status).toBe(200);
    expect((await p.controller.getStatus()).cached).toBeNull();
    await expect(p.controller.sync()).rejects.toMatchObject({ code: 'ERR_DOWNLOAD_HTTP' });
    await p.controller.sync();
  });

  it('passes --locale to the pages as ?lang=, redirecting a page asked for without it', async () => {
    const p = await preview({ locale: 'de' });
    expect(p.firstRunUrl).toBe(`${p.url}/first-run.html?lang=de`);
    expect(p.settingsUrl).toBe(`${p.url}/settings.html?lang=de`);
    const location = async (pathAndQuery: string) =>
      (await fetch(`${p.url}${pathAndQuery}`, { redirect: 'manual' })).headers.get('location');
    expect(await location('/')).toBe('/first-run.html?lang=de');
    expect(await location('/settings.html')).toBe('/settings.html?lang=de');
    expect(await location('/first-run.html?fault=none')).toBe('/first-run.html?fault=none&lang=de');
    // A page that names its own language is served as asked.
    expect((await fetch(`${p.url}/settings.html?lang=en`, { redirect: 'manual' })).status).toBe(200);
  });

  it('replays a delta update on ?fault=delta (v1 cached, v2 fetched by ranges), then the plain demo again', async () => {
    const p = await preview({ small: true });
    const server = p.artifactServer!;
    const demoKey = manifestEntry(p, 'openclaw').key;
    expect((await fetch(`${p.firstRunUrl}?fault=delta`)).status).toBe(200);
    // The page came back once the cache held v1; the manifest now names v2.
    const v2 = manifestEntry(p, 'openclaw');
    expect(v2).toMatchObject({ chunkIndex: { key: `${v2.key}.chunks.json` } });
    expect((await p.controller.getStatus()).cached?.artifacts.map((a) => a.version)).toEqual(['2026.5.1']);
    expect(await p.controller.sync()).toMatchObject({ downloaded: [v2.key] });
    const ranges = server.requests.filter((r) => r.path === v2.key);
    expect(ranges.length).toBeGreaterThan(0);
    expect(ranges.every((r) => r.status === 206)).toBe(true);
    expect(server.bytesServed(v2.key)).toBeLessThan(v2.sizeBytes * 0.25);

    // Another scenario: the demo manifest again, dated after the releases (the
    // cache would refuse an older one as a rollback, even after a clear).
    expect((await fetch(`${p.firstRunUrl}?fault=corrupt`)).status).toBe(200);
    expect(manifestEntry(p, 'openclaw').key).toBe(demoKey);
    await expect(p.controller.sync()).rejects.toMatchObject({ code: 'ERR_SHA256_MISMATCH' });
    await p.controller.sync();
    // And the delta once more: each release published anew, newer than the demo.
    expect((await fetch(`${p.firstRunUrl}?fault=delta`)).status).toBe(200);
    expect(await p.controller.sync()).toMatchObject({ downloaded: [v2.key] });
  });

  it('parses its command line', () => {
    expect(
      parsePreviewArgs(['--port', '8080', '--small', '--fault', 'stall', '--no-autostart', '--retries', '0']),
    ).toEqual({
      port: 8080,
      small: true,
      fault: 'stall',
      autoStart: false,
      retries: 0,
    });
    expect(parsePreviewArgs(['--fault', 'delta'])).toMatchObject({ fault: 'delta' });
    expect(parsePreviewArgs(['--limit-rate', '500K'])).toMatchObject({ limitRate: 500 * 1024 });
    expect(parsePreviewArgs(['--locale', 'de-at'])).toMatchObject({ locale: 'de-AT' });
    expect(parsePreviewArgs(['--help'])).toBe('help');
  });

  describe('npm run preview', () => {
    let child: ChildProcess | undefined;
    afterEach(async () => {
      if (child && child.exitCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    });

    it('builds, prints the URL, serves the pages, and stops cleanly on SIGTERM', async () => {
      child = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(REPO, 'preview/index.ts'), '--small', '--no-autostart'],
        {
          cwd: REPO,
          env: { ...process.env, VM_CACHE_MANIFEST_URL: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout!.on('data', (d) => {
        out += String(d);
      });
      child.stderr!.on('data', (d) => {
        out += String(d);
      });
      await expect
        .poll(() => /First run: (http:\/\/127\.0\.0\.1:\d+\/first-run\.html)/.exec(out)?.[1], {
          timeout: 25_000,
        })
        .toBeTruthy()
        .catch((err: unknown) => {
          throw new Error(`npm run preview printed no URL; its output:\n${out}`, { cause: err });
        });
      const url = /First run: (\S+)/.exec(out)![1]!;
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('<title>Setting up VM images</title>');
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    });
  });
});
