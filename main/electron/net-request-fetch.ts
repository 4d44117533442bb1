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
      const manual = init.redirect !== 'follow';
      const options: ClientRequestConstructorOptions = {
        url,
        method: init.method ?? 'GET',
        redirect: manual ? 'manual' : 'follow',
      };
      const request = net.request(options);
      const signal = init.signal ?? undefined;
      // Until a Response exists, every way out settles the promise exactly once.
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        outcome();
      };
      const fail = (err: unknown) => settle(() => reject(err));
      const onAbort = () => {
        fail(signal?.reason ?? new DOMException('The operation was aborted', 'AbortError'));
        request.abort();
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        for (const [name, value] of new Headers(init.headers).entries()) request.setHeader(name, value);
      } catch (err) {
        fail(err);
        request.abort();
        return;
      }
      request.on('redirect', (status, _method, location) => {
        // Electron emits this in 'follow' mode too, where it follows on its own.
        if (!manual) return;
        // Not followed: without a synchronous followRedirect() Chromium cancels
        // the request; the engine gets the hop to judge and request itself.
        settle(() => resolve(new Response(null, { status, headers: { location } })));
        request.abort();
      });
      request.on('response', (res: IncomingMessage) => {
        try {
          const response = toResponse(res, options.method === 'HEAD', () => request.abort(), signal);
          settle(() => resolve(response));
        } catch (err) {
          // A status or header the Fetch API cannot hold: a clear failure, never a hang.
          fail(err);
          request.abort();
        }
      });
      request.on('error', fail);
      request.on('abort', () => fail(new DOMException('The request was aborted', 'AbortError')));
      request.end();
    });
}

/**
 * The response as a fetch Response. Its body cancelled (the engine stops
 * reading: an error status, a refused encoding, a cut-off) aborts the
 * request, or Chromium would keep the loader, and its connection, paused.
 */
function toResponse(
  res: IncomingMessage,
  head: boolean,
  abort: () => void,
  signal: AbortSignal | undefined,
): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      // A value with characters beyond Latin-1 (a raw UTF-8 metadata header)
      // cannot be a Fetch header; none the engine reads is like that.
      try {
        headers.append(name, v);
      } catch {}
    }
  }
  const empty = head || res.statusCode === 204 || res.statusCode === 304;
  // Electron's IncomingMessage is a Readable at run time (its .d.ts names only
  // the events): toWeb keeps backpressure, so a slow disk slows the socket
  // instead of filling memory.
  const stream = res as unknown as Readable;
  const body = empty ? null : (Readable.toWeb(stream) as ReadableStream<Uint8Array>);
  const response = new Response(body, { status: res.statusCode, headers });
  const stop = () => abort();
  signal?.addEventListener('abort', stop, { once: true });
  stream.once('close', () => {
    signal?.removeEventListener('abort', stop);
    if (!stream.readableEnded) abort();
  });
  return response;
}
