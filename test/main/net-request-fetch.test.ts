// The Electron fetchImpl on net.request, against a real server on 127.0.0.1
// through the ClientRequest stand-in (Electron's redirect rules modelled).
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type NetRequest, netRequestFetch } from '../../main/electron/net-request-fetch.js';
import { FakeClientRequest, type StandIn } from './electron-stand-ins.js';

const servers: http.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function standIn() {
  const requests: FakeClientRequest[] = [];
  const urls: string[] = [];
  const net = {
    request: (options: Parameters<NetRequest['request']>[0]) => {
      const r = new FakeClientRequest(options, urls);
      requests.push(r);
      return r;
    },
  } satisfies StandIn<NetRequest, 'request'>;
  return { fetch: netRequestFetch(net), requests, urls };
}

describe('netRequestFetch', () => {
  it('hands a redirect back as the 3xx with its Location (manual), follows it when asked to (follow)', async () => {
    const base = await serve((req, res) => {
      if (req.url === '/from') res.writeHead(302, { location: '/to' }).end();
      else res.end('arrived');
    });
    const { fetch, requests, urls } = standIn();
    const hop = await fetch(`${base}/from`, { redirect: 'manual' });
    expect(hop.status).toBe(302);
    expect(hop.headers.get('location')).toBe(`${base}/to`);
    expect(requests[0]!.aborted).toBe(true);
    expect(urls).toEqual([`${base}/from`]);

    const followed = await fetch(`${base}/from`, { redirect: 'follow' });
    expect(followed.status).toBe(200);
    expect(await followed.text()).toBe('arrived');
  });

  it('a header the Fetch API cannot hold is dropped, not a hang; a status it cannot hold is an error', async () => {
    const base = await serve((req, res) => {
      if (req.url === '/odd-status') {
        res.socket!.end('HTTP/1.1 999 Odd\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      // Raw UTF-8 in a metadata header: beyond Latin-1 once decoded.
      res.socket!.end(
        Buffer.concat([
          Buffer.from('HTTP/1.1 200 OK\r\nx-amz-meta-title: '),
          Buffer.from('€ report', 'utf8'),
          Buffer.from('\r\ncontent-length: 2\r\n\r\nok'),
        ]),
      );
    });
    const { fetch } = standIn();
    const res = await fetch(`${base}/meta`);
    expect(res.headers.get('x-amz-meta-title')).toBeNull();
    expect(await res.text()).toBe('ok');
    await expect(fetch(`${base}/odd-status`)).rejects.toThrow();
  });

  it('cancelling the body aborts the request; so does the signal, before or after the headers', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(10 << 20) });
      res.write(Buffer.alloc(64 << 10));
      // The rest never comes: only an abort ends this response.
    });
    const { fetch, requests } = standIn();
    const res = await fetch(`${base}/big`);
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    // 5 s, not the poll's default 1 s, for a loaded machine: a request never aborted still fails.
    await expect.poll(() => requests[0]!.aborted, { timeout: 5_000 }).toBe(true);

    const late = new AbortController();
    await fetch(`${base}/big`, { signal: late.signal });
    late.abort();
    expect(requests[1]!.aborted).toBe(true);

    const early = new AbortController();
    early.abort();
    await expect(fetch(`${base}/big`, { signal: early.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});
