// The engine speaks to the network through one small interface, so the same
// download code runs on got (plain Node), on fetch, and on Electron's net.fetch
// (system proxy and certificate store).
import got from 'got';

/** Anything shaped like fetch, called as fetchImpl(urlString, init). */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export interface TransportRequest {
  headers: Record<string, string>;
  signal: AbortSignal;
  /**
   * The body exactly as sent, Content-Encoding left alone: a tarball is hashed
   * and resumed by byte, and an object store that labels a .tar.gz
   * `Content-Encoding: gzip` still means those gzip bytes (curl -o keeps them).
   */
  raw?: boolean;
  /** Called before each redirect is followed, with the next URL; throws to refuse the hop. */
  checkRedirect?: (to: string, from: string) => void;
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
        decompress: !request.raw,
        // Judged here, before got builds the next request: by then got would
        // already have refused a file: Location in its own words (a network error).
        followRedirect: (response: { headers: Record<string, unknown>; url: string }) => {
          // Decoded as got decodes it (UTF-8 bytes in a latin1 header), so the URL judged is the one requested.
          const location = Buffer.from(String(response.headers.location), 'binary').toString();
          request.checkRedirect?.(location, response.url || url);
          return true;
        },
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
