// The engine speaks to the network through one small interface, so the same
// download code runs on got (plain Node), on fetch, and on Electron's net.fetch
// (system proxy and certificate store).
import got from 'got';

/** Anything shaped like fetch, called as fetchImpl(urlString, init). */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export interface TransportRequest {
  headers: Record<string, string>;
  signal: AbortSignal;
}

export interface TransportResponse {
  status: number;
  /** The URL that answered, after redirects. */
  url: string;
  /** A response header by lower-case name. */
  header(name: string): string | undefined;
  body: AsyncIterable<Uint8Array>;
  /** Stop reading and release the connection. Safe to call more than once. */
  cancel(): void;
}

export type Transport = (url: string, request: TransportRequest) => Promise<TransportResponse>;

export function fetchTransport(fetchImpl: FetchLike): Transport {
  // async: fetchImpl runs synchronously inside the call, before any await,
  // which the engine contract relies on for the manifest request.
  return async (url, request) => {
    const res = await fetchImpl(url, {
      method: 'GET',
      headers: request.headers,
      signal: request.signal,
      redirect: 'follow',
    });
    const stream = res.body;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    return {
      status: res.status,
      url: res.url || url,
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
  };
}

export interface GotTransportOptions {
  /** Connection must be established within this (ms). */
  connectTimeoutMs?: number;
  /** Safety net under the engine's own stall detection: idle socket limit (ms). */
  idleTimeoutMs?: number;
}

/** The default transport in plain Node. Retries are the engine's job, so got's are off. */
export function gotTransport(options: GotTransportOptions = {}): Transport {
  return (url, request) =>
    new Promise<TransportResponse>((resolve, reject) => {
      const stream = got.stream(url, {
        headers: request.headers,
        signal: request.signal,
        throwHttpErrors: false,
        retry: { limit: 0 },
        followRedirect: true,
        maxRedirects: 10,
        timeout: { connect: options.connectTimeoutMs ?? 30_000, socket: options.idleTimeoutMs ?? 120_000 },
      });
      stream.once('error', reject);
      stream.once(
        'response',
        (res: {
          statusCode: number;
          url?: string;
          headers: Record<string, string | string[] | undefined>;
        }) => {
          resolve({
            status: res.statusCode,
            url: res.url || url,
            header: (name) => {
              const v = res.headers[name];
              return Array.isArray(v) ? v[0] : v;
            },
            body: stream,
            cancel: () => stream.destroy(),
          });
        },
      );
    });
}
