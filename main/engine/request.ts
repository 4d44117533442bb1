// One HTTP request with the engine's rules around it: linked to the caller's
// AbortSignal, a deadline for the response headers, a stall watchdog for the
// body, and every failure turned into a coded error.
import { CancelError, NetworkError, StalledError, TimeoutError, VmCacheError } from './errors.js';
import type { Transport, TransportResponse } from './transport.js';
import { assertRedirectAllowed } from './url-policy.js';

export interface RequestOptions {
  signal?: AbortSignal | undefined;
  /** Response headers must arrive within this (ms). */
  timeoutMs: number;
  headers?: Record<string, string>;
  /** Accept a redirect to http: on a non-loopback host. */
  allowInsecureHttp?: boolean;
  /** The body exactly as sent: no Content-Encoding decoding (tarballs are hashed and resumed by byte). */
  raw?: boolean;
}

export class ActiveRequest {
  readonly controller = new AbortController();
  private readonly unlink: () => void;

  constructor(
    readonly url: string,
    parent: AbortSignal | undefined,
  ) {
    const onAbort = () => this.abort(new CancelError());
    parent?.addEventListener('abort', onAbort, { once: true });
    this.unlink = () => parent?.removeEventListener('abort', onAbort);
    if (parent?.aborted) onAbort();
  }

  abort(reason: VmCacheError): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  /** The coded error for anything thrown while this request was alive. */
  errorFor(err: unknown): VmCacheError {
    const reason = this.controller.signal.reason;
    if (this.controller.signal.aborted && reason instanceof VmCacheError) return reason;
    if (err instanceof VmCacheError) return err;
    return new NetworkError(this.url, err);
  }

  done(): void {
    this.unlink();
  }
}

/**
 * Starts the request synchronously (the transport is called before this
 * returns) and resolves once headers arrive.
 */
export function startRequest(
  transport: Transport,
  url: string,
  options: RequestOptions,
): { request: ActiveRequest; response: Promise<TransportResponse> } {
  const request = new ActiveRequest(url, options.signal);
  const allowInsecureHttp = options.allowInsecureHttp ?? false;
  // Every hop is judged before it is requested. The refusal also aborts the
  // request, so it is what errorFor reports whatever the transport wraps it in.
  const checkRedirect = (to: string, from: string) => {
    try {
      assertRedirectAllowed(from, to, allowInsecureHttp);
    } catch (err) {
      request.abort(err as VmCacheError);
      throw err;
    }
  };
  const timer = setTimeout(() => request.abort(new TimeoutError(url, options.timeoutMs)), options.timeoutMs);
  let sent: Promise<TransportResponse>;
  try {
    sent = transport(url, {
      headers: options.headers ?? {},
      signal: request.controller.signal,
      raw: options.raw ?? false,
      checkRedirect,
    });
  } catch (err) {
    sent = Promise.reject(err);
  }
  const response = sent.then(
    (res) => {
      clearTimeout(timer);
      if (request.controller.signal.aborted) {
        res.cancel();
        throw request.errorFor(undefined);
      }
      // Where the chain ended is checked too: a fetchImpl may follow redirects
      // on its own (Electron's net.fetch cannot hand them over, see transport.ts).
      if (res.url !== url) {
        try {
          assertRedirectAllowed(url, res.url, allowInsecureHttp);
        } catch (err) {
          res.cancel();
          request.done();
          throw err;
        }
      }
      return res;
    },
    (err: unknown) => {
      clearTimeout(timer);
      request.done();
      throw request.errorFor(err);
    },
  );
  return { request, response };
}

export interface StallWatch {
  /** Call on every chunk. */
  tick(): void;
  stop(): void;
}

/**
 * No bytes for `stallTimeoutMs` aborts the request as a transient stall;
 * `onStalled(true)` fires at a third of that so the UI can say so first.
 */
export function watchStall(
  request: ActiveRequest,
  stallTimeoutMs: number,
  onStalled: (stalled: boolean) => void,
): StallWatch {
  let stalled = false;
  let warn: NodeJS.Timeout | undefined;
  let kill: NodeJS.Timeout | undefined;
  const warnAfter = Math.max(1, Math.floor(stallTimeoutMs / 3));
  const arm = () => {
    warn = setTimeout(() => {
      stalled = true;
      onStalled(true);
    }, warnAfter);
    kill = setTimeout(() => request.abort(new StalledError(request.url, stallTimeoutMs)), stallTimeoutMs);
  };
  arm();
  let last = Date.now();
  return {
    tick() {
      // Re-arming timers on every 64 KiB chunk is measurable at 1 GB/s; do it
      // at most every 50 ms, which is far finer than any stall timeout.
      const now = Date.now();
      if (stalled) {
        stalled = false;
        onStalled(false);
      } else if (now - last < 50) {
        return;
      }
      last = now;
      clearTimeout(warn);
      clearTimeout(kill);
      arm();
    },
    stop() {
      clearTimeout(warn);
      clearTimeout(kill);
    },
  };
}

/** Retry-After as milliseconds (seconds or an HTTP date), if present and sane. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
