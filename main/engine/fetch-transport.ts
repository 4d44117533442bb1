// The engine's transport over any fetch-compatible function (undici's fetch,
// Electron's net.fetch): redirects followed one hop at a time so each is
// judged before it is requested, and a tarball whose bytes fetch would decode
// refused in words, since fetch offers no way to keep them as sent.
import { VmCacheError } from './errors.js';
import type { FetchLike, Transport, TransportRequest, TransportResponse } from './transport.js';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** As many hops as got follows, so both transports fail a loop alike. */
const MAX_REDIRECTS = 10;

/**
 * fetchImpls seen to refuse `redirect: 'manual'`. Electron's net.fetch is one:
 * its ClientRequest cancels a manual redirect nobody follows and rejects with
 * "Redirect was cancelled", so the Location never reaches us. Those follow on
 * their own, and only the final URL can be checked (request.ts does).
 */
const followsOnItsOwn = new WeakSet<FetchLike>();

export function fetchTransport(fetchImpl: FetchLike): Transport {
  // async: fetchImpl runs synchronously inside the call, before any await,
  // which the engine contract relies on for the manifest request.
  return async (url, request) => {
    const res = followsOnItsOwn.has(fetchImpl)
      ? await send(fetchImpl, url, request, 'follow')
      : await followManually(fetchImpl, url, request);
    // Only a body we would keep: an error page may be compressed as it likes.
    if (request.raw && (res.response.status === 200 || res.response.status === 206)) {
      refuseEncoded(res.response, res.url);
    }
    return wrap(res.response, res.url);
  };
}

interface Answered {
  response: Response;
  /** The URL that answered. */
  url: string;
}

async function send(
  fetchImpl: FetchLike,
  url: string,
  request: TransportRequest,
  redirect: 'follow' | 'manual',
): Promise<Answered> {
  const response = await fetchImpl(url, {
    method: 'GET',
    headers: request.headers,
    signal: request.signal,
    redirect,
  });
  return { response, url: response.url || url };
}

/** Follows redirects one hop at a time, each checked before it is requested. */
async function followManually(
  fetchImpl: FetchLike,
  url: string,
  request: TransportRequest,
): Promise<Answered> {
  let current = url;
  for (let hops = 0; ; hops++) {
    let response: Response;
    try {
      response = await fetchImpl(current, {
        method: 'GET',
        headers: request.headers,
        signal: request.signal,
        redirect: 'manual',
      });
    } catch (err) {
      if (request.signal.aborted || !cancelledRedirect(err)) throw err;
      followsOnItsOwn.add(fetchImpl);
      return send(fetchImpl, current, request, 'follow');
    }
    // A spec-strict fetch hides the redirect (status 0, no headers): let it follow instead.
    if (response.type === 'opaqueredirect') {
      followsOnItsOwn.add(fetchImpl);
      return send(fetchImpl, current, request, 'follow');
    }
    const location = response.headers.get('location');
    if (!REDIRECT_STATUSES.has(response.status) || location === null) {
      return { response, url: response.url || current };
    }
    await response.body?.cancel().catch(() => {});
    // The same words undici uses, so NetworkError reports a loop the same way for both transports.
    if (hops >= MAX_REDIRECTS) throw new Error(`redirect count exceeded (${MAX_REDIRECTS}) at ${current}`);
    request.checkRedirect?.(location, current);
    current = new URL(location, current).href;
  }
}

function cancelledRedirect(err: unknown): boolean {
  return err instanceof Error && /redirect was cancelled/i.test(err.message);
}

/**
 * fetch decodes any Content-Encoding (undici and Chromium alike, no opt-out),
 * so the bytes of an encoded tarball cannot be had: say so now, and what the
 * publisher must change, rather than store decoded bytes that fail sha256.
 */
function refuseEncoded(response: Response, url: string): void {
  const encoding = response.headers.get('content-encoding')?.trim();
  if (!encoding || encoding.toLowerCase() === 'identity') return;
  response.body?.cancel().catch(() => {});
  throw new ContentEncodingError(url, encoding);
}

export class ContentEncodingError extends VmCacheError {
  constructor(url: string, encoding: string) {
    super(
      'ERR_DOWNLOAD_HTTP',
      `download refused: ${url} was served with "Content-Encoding: ${encoding}", and this app's network stack (fetch) decodes that, so the stored bytes could never match the manifest's sha256. The publisher must serve tarballs as plain bytes: remove the Content-Encoding metadata from the object (a .tar.gz is already compressed) or stop the CDN compressing it`,
    );
  }
}

function wrap(res: Response, url: string): TransportResponse {
  const stream = res.body;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return {
    status: res.status,
    url,
    header: (name) => res.headers.get(name) ?? undefined,
    body: {
      async *[Symbol.asyncIterator]() {
        if (!stream) return;
        reader = stream.getReader();
        let finished = false;
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) {
              finished = true;
              return;
            }
            yield value;
          }
        } finally {
          // Left early (an error, a cut-off): cancel, so the connection is let go.
          if (!finished) await reader.cancel().catch(() => {});
          reader.releaseLock();
        }
      },
    },
    cancel: () => {
      const pending = stream?.locked ? reader?.cancel() : stream?.cancel();
      pending?.catch(() => {});
    },
  };
}
