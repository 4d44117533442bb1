import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ArtifactServer, startArtifactServer } from '../../server/index.js';
import { bytes, readUntilError, sha256 } from './helpers.js';

const SIZE = 1_000_000;
const KEY = 'vm/images/agent-1.0.0-arm64.tar.gz';
const MANIFEST = 'vm/manifest.json';

let server: ArtifactServer;
let full: Buffer;
const url = (key = KEY): string => `${server.url}/${key}`;

beforeAll(async () => {
  server = await startArtifactServer({
    artifacts: [{ agent: 'agent', version: '1.0.0', arch: 'arm64', sizeBytes: SIZE }],
  });
  full = server.contentOf(KEY);
});
afterEach(() => {
  server.setFault(KEY, undefined);
  server.setFault(MANIFEST, undefined);
});
afterAll(() => server.close());

/** Requests and bytes for KEY since `from`. */
function since(from: number) {
  return server.requests.slice(from).filter((r) => r.path === KEY);
}

describe('faults', () => {
  it('status + retryAfter + times: fails the next N requests, then serves', async () => {
    server.setFault(KEY, { status: 503, retryAfter: '2', times: 2 });
    const before = server.bytesServed(KEY);
    const a = await fetch(url());
    expect(a.status).toBe(503);
    expect(a.headers.get('retry-after')).toBe('2');
    expect((await bytes(a)).length).toBe(0);
    expect((await fetch(url())).status).toBe(503);
    const c = await fetch(url());
    expect(c.status).toBe(200);
    expect(sha256(await bytes(c))).toBe(sha256(full));
    expect(server.bytesServed(KEY) - before).toBe(SIZE);
  });

  it('status without times applies until cleared, and to the manifest too', async () => {
    server.setFault(MANIFEST, { status: 429, retryAfter: 'Wed, 21 Oct 2026 07:28:00 GMT' });
    for (let i = 0; i < 3; i++) {
      const res = await fetch(server.manifestUrl);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('Wed, 21 Oct 2026 07:28:00 GMT');
    }
    server.setFault(MANIFEST, undefined);
    expect((await fetch(server.manifestUrl)).status).toBe(200);
    server.setFault(KEY, { status: 404 });
    expect((await fetch(url())).status).toBe(404);
  });

  it('resetAtByte: the connection drops after exactly N bytes, and only those are counted', async () => {
    const from = server.requests.length;
    const before = server.bytesServed(KEY);
    server.setFault(KEY, { resetAtByte: 600_000, times: 1 });
    const res = await fetch(url());
    expect(res.status).toBe(200);
    const { received, error } = await readUntilError(res);
    expect(error).toBeDefined();
    expect(received.length).toBe(600_000);
    expect(received.equals(full.subarray(0, 600_000))).toBe(true);
    expect(server.bytesServed(KEY) - before).toBe(600_000);

    // The resume transfers only the remaining 40 %.
    const etag = res.headers.get('etag') ?? '';
    const resumed = await fetch(url(), { headers: { Range: 'bytes=600000-', 'If-Range': etag } });
    expect(resumed.status).toBe(206);
    const rest = await bytes(resumed);
    expect(sha256(Buffer.concat([received, rest]))).toBe(sha256(full));
    expect(server.bytesServed(KEY) - before).toBe(SIZE);
    expect(since(from).map((r) => r.bytesSent)).toEqual([600_000, 400_000]);
  });

  it('resetAtByte: 0 drops the connection right after the headers', async () => {
    const before = server.bytesServed(KEY);
    const from = server.requests.length;
    server.setFault(KEY, { resetAtByte: 0 });
    // The close may reach the client with the headers, failing fetch() itself
    // rather than the body; either way nothing of the body arrives.
    const outcome = await fetch(url()).then(
      (res) => readUntilError(res),
      (error: unknown) => ({ received: Buffer.alloc(0), error }),
    );
    expect(outcome.error).toBeDefined();
    expect(outcome.received.length).toBe(0);
    expect(since(from)[0]).toMatchObject({ status: 200, bytesSent: 0 });
    expect(server.bytesServed(KEY)).toBe(before);
  });

  it('stallAtByte: sends N bytes and hangs; close() still returns promptly', async () => {
    const s = await startArtifactServer({
      artifacts: [{ agent: 'agent', version: '1.0.0', arch: 'arm64', sizeBytes: SIZE }],
    });
    s.setFault(KEY, { stallAtByte: 300_000 });
    const res = await fetch(`${s.url}/${KEY}`);
    const reader = res.body?.getReader();
    if (!reader) throw new Error('no body');
    let got = 0;
    while (got < 300_000) {
      const { value, done } = await reader.read();
      if (done) break;
      got += value.length;
    }
    expect(got).toBe(300_000);
    // Nothing more arrives while stalled.
    const next = reader.read();
    const raced = await Promise.race([
      next.then(() => 'data'),
      new Promise((r) => setTimeout(() => r('stalled'), 150)),
    ]);
    expect(raced).toBe('stalled');
    expect(s.bytesServed(KEY)).toBe(300_000);
    const t0 = performance.now();
    await s.close();
    // Loose (an event-loop delay on a loaded machine is not a slow close): a close that
    // waited for the stalled response would never end, since the stall holds it open until close().
    expect(performance.now() - t0).toBeLessThan(2_000);
    await expect(next).rejects.toThrow();
  });

  it('stallAtByte 0: the headers still arrive, then nothing', async () => {
    const s = await startArtifactServer({
      artifacts: [{ agent: 'agent', version: '1.0.0', arch: 'arm64', sizeBytes: SIZE }],
    });
    s.setFault(KEY, { stallAtByte: 0 });
    const res = await fetch(`${s.url}/${KEY}`);
    expect(res.status).toBe(200);
    const next = res.body!.getReader().read();
    const raced = await Promise.race([
      next.then(() => 'data'),
      new Promise((r) => setTimeout(() => r('stalled'), 150)),
    ]);
    expect(raced).toBe('stalled');
    await s.close();
    await expect(next).rejects.toThrow();
  });

  it('sendTimeoutMs: a client that stops reading is dropped; one that reads gets everything', async () => {
    const big = 32 << 20;
    const s = await startArtifactServer({
      artifacts: [{ agent: 'agent', version: '1.0.0', arch: 'arm64', sizeBytes: big }],
    });
    try {
      s.setFault(KEY, { sendTimeoutMs: 200 });
      const idle = await fetch(`${s.url}/${KEY}`);
      expect(idle.status).toBe(200);
      // Read nothing: the socket buffers fill, the server's writes wait, the timer runs out.
      const record = s.requests.at(-1)!;
      await expect.poll(() => record.closed, { timeout: 10_000 }).toBe(true);
      await expect(bytes(idle)).rejects.toThrow();
      expect(s.bytesServed(KEY)).toBeLessThan(big);

      const reading = await fetch(`${s.url}/${KEY}`);
      expect((await bytes(reading)).length).toBe(big);
    } finally {
      await s.close();
    }
  });

  it('dripBytesPerSec: sends the body slowly', async () => {
    server.setFault(KEY, { dripBytesPerSec: 100_000 });
    const t0 = performance.now();
    const res = await fetch(url(), { headers: { Range: 'bytes=0-29999' } });
    const body = await bytes(res);
    const elapsed = performance.now() - t0;
    expect(body.equals(full.subarray(0, 30_000))).toBe(true);
    // 30 kB at 100 kB/s: about 0.3 s.
    expect(elapsed).toBeGreaterThan(220);
    expect(elapsed).toBeLessThan(2000);
  });

  it('ignoreRange: 200 with the whole body despite Range', async () => {
    server.setFault(KEY, { ignoreRange: true });
    const res = await fetch(url(), { headers: { Range: 'bytes=500000-' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-range')).toBeNull();
    expect((await bytes(res)).equals(full)).toBe(true);
  });

  it('changeEtag: new validators on every request, so If-Range fails', async () => {
    server.setFault(KEY, { changeEtag: true });
    const a = await fetch(url(), { method: 'HEAD' });
    const b = await fetch(url(), { method: 'HEAD' });
    expect(a.headers.get('etag')).toMatch(/^"[^"]+"$/);
    expect(a.headers.get('etag')).not.toBe(b.headers.get('etag'));
    expect(a.headers.get('last-modified')).not.toBe(b.headers.get('last-modified'));
    const res = await fetch(url(), {
      headers: { Range: 'bytes=10-', 'If-Range': b.headers.get('etag') ?? '' },
    });
    expect(res.status).toBe(200);
    expect((await bytes(res)).length).toBe(SIZE);
    // Without If-Range the range is still honoured.
    const plain = await fetch(url(), { headers: { Range: 'bytes=10-' } });
    expect(plain.status).toBe(206);
    await plain.arrayBuffer();
  });

  it('corruptByteAt: flips exactly the byte at that resource offset', async () => {
    server.setFault(KEY, { corruptByteAt: 123_456 });
    const body = await bytes(await fetch(url()));
    expect(body.length).toBe(SIZE);
    const diffs = [...body.keys()].filter((i) => body[i] !== full[i]);
    expect(diffs).toEqual([123_456]);
    expect(body[123_456]).toBe((full[123_456] as number) ^ 0xff);

    const ranged = await bytes(await fetch(url(), { headers: { Range: 'bytes=123000-123999' } }));
    expect(ranged[456]).toBe((full[123_456] as number) ^ 0xff);
    const untouched = await bytes(await fetch(url(), { headers: { Range: 'bytes=200000-' } }));
    expect(untouched.equals(full.subarray(200_000))).toBe(true);
  });

  it('extraBytes: junk after the content, included in Content-Length', async () => {
    server.setFault(KEY, { extraBytes: 1000 });
    const res = await fetch(url());
    expect(res.headers.get('content-length')).toBe(String(SIZE + 1000));
    const body = await bytes(res);
    expect(body.length).toBe(SIZE + 1000);
    expect(body.subarray(0, SIZE).equals(full)).toBe(true);
    const tail = await bytes(await fetch(url(), { headers: { Range: `bytes=${SIZE - 10}-` } }));
    expect(tail.length).toBe(1010);
  });

  it('redirectLoop: 302 to itself forever', async () => {
    server.setFault(KEY, { redirectLoop: true });
    const manual = await fetch(`${url()}?x=1`, { redirect: 'manual' });
    expect(manual.status).toBe(302);
    expect(manual.headers.get('location')).toBe(`/${KEY}?x=1`);
    const from = server.requests.length;
    await expect(fetch(url())).rejects.toThrow();
    expect(since(from).length).toBeGreaterThan(5);
    expect(since(from).every((r) => r.status === 302)).toBe(true);
  });

  it('delayMs: waits before the headers', async () => {
    server.setFault(KEY, { delayMs: 200, times: 1 });
    const t0 = performance.now();
    const res = await fetch(url(), { method: 'HEAD' });
    expect(performance.now() - t0).toBeGreaterThan(180);
    expect(res.status).toBe(200);
  });

  it('body: replaces the body entirely, Content-Length follows', async () => {
    server.setFault(MANIFEST, { body: '{"schemaVersion": 2, "agents": ' });
    const res = await fetch(server.manifestUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('content-length')).toBe('31');
    expect(await res.text()).toBe('{"schemaVersion": 2, "agents": ');

    server.setFault(KEY, { body: Buffer.from('tiny') });
    const tar = await fetch(url());
    expect(tar.headers.get('content-length')).toBe('4');
    expect(await tar.text()).toBe('tiny');
  });

  it('combines knobs: drip plus reset counts only what went out', async () => {
    const before = server.bytesServed(KEY);
    server.setFault(KEY, { dripBytesPerSec: 1_000_000, resetAtByte: 50_000, times: 1 });
    const { received, error } = await readUntilError(await fetch(url()));
    expect(error).toBeDefined();
    expect(received.length).toBe(50_000);
    expect(server.bytesServed(KEY) - before).toBe(50_000);
  });

  it('stops counting when the client goes away', async () => {
    const from = server.requests.length;
    server.setFault(KEY, { dripBytesPerSec: 200_000, times: 1 });
    const controller = new AbortController();
    const res = await fetch(url(), { signal: controller.signal });
    const reader = res.body?.getReader();
    await reader?.read();
    controller.abort();
    const record = since(from)[0]!;
    // Once the server has seen the connection go, its count is final.
    await expect.poll(() => record.closed, { timeout: 5_000 }).toBe(true);
    expect(record.bytesSent).toBeGreaterThan(0);
    expect(record.bytesSent).toBeLessThan(SIZE);
  });
});
