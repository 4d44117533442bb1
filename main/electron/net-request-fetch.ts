// The engine's fetchImpl in Electron, on `net.request` (Chromium's network
// stack: the system proxy, PAC and the OS certificate store, as net.fetch,
// which Electron itself builds on net.request).
//
// Why not net.fetch: asked for `redirect: 'manual'` it rejects ("Redirect was
// cancelled") and never shows the Location, so the engine could not judge
// each hop of a redirect chain (a cleartext hop to another host in the middle
// would pass), and the final `Response.url` it reports is documented as
// unreliable. Here a redirect is handed back as the 3xx it is, with its
// Location, and the engine's fetch transport decides whether to follow it.
import { Readable } from 'node:stream';
import type { ClientRequestConstructorOptions, IncomingMessage, Net } from 'electron';
import type { FetchLike } from '../engine/index.js';

export type NetRequest = Pick<Net, 'request'>;

export function netRequestFetch(net: NetRequest): FetchLike {
  return (url, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const options: ClientRequestConstructorOptions = {
        url,
        method: init.method ?? 'GET',
        // 'follow' only for a caller that asks for it; the engine asks for 'manual'.
        redirect: init.redirect === 'follow' ? 'follow' : 'manual',
      };
      const request = net.request(options);
      for (const [name, value] of new Headers(init.headers).entries()) request.setHeader(name, value);
      const signal = init.signal ?? undefined;
      let settled = false;
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      const onAbort = () => {
        request.abort();
        fail(signal?.reason ?? new DOMException('The operation was aborted', 'AbortError'));
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      request.on('redirect', (status, _method, location) => {
        // Not followed: without a synchronous followRedirect() Chromium cancels
        // the request, and the engine gets the hop to judge and request itself.
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        request.abort();
        resolve(new Response(null, { status, headers: { location } }));
      });
      request.on('response', (res: IncomingMessage) => {
        if (settled) return;
        settled = true;
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
        }
        // Electron's IncomingMessage is a Readable at run time (its .d.ts
        // names only the events): toWeb keeps backpressure, so a slow disk
        // slows the socket instead of filling memory.
        const body = Readable.toWeb(res as unknown as Readable) as ReadableStream<Uint8Array>;
        const empty = res.statusCode === 204 || res.statusCode === 304 || options.method === 'HEAD';
        if (signal) {
          const stop = () => request.abort();
          signal.removeEventListener('abort', onAbort);
          signal.addEventListener('abort', stop, { once: true });
          res.on('end', () => signal.removeEventListener('abort', stop));
        }
        resolve(new Response(empty ? null : body, { status: res.statusCode, headers }));
      });
      request.on('error', fail);
      request.end();
    });
}
