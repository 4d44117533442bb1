// The one way a VmCacheApi is made, whatever carries the calls: IPC in the
// preload, a WebSocket in the browser preview. A transport only sends a call
// on its channel and delivers progress payloads; the page-facing behaviour
// lives here once. No zod (the preload bundles this): channel names come from
// channels.ts, types only from api.ts. What crosses is decided here too: a
// call's declared arguments and nothing else, however the page calls it.
import type { InvokeName, InvokeValue, Result, VmCacheApi } from './api.js';
import { CHANNELS } from './channels.js';
import type { ProgressListener, SyncProgress } from './progress.js';

export type { ProgressListener };

export interface ApiTransport {
  /** Sends one call on `channel` with exactly `args`: the client passes a call's declared arguments only. */
  invoke(channel: string, args: readonly unknown[]): Promise<Result<unknown>>;
  /** Starts delivering progress payloads to `deliver`; returns the function that stops it. */
  listen(deliver: ProgressListener): () => void;
}

/** The page's calls that take no arguments: whatever the page passes, none crosses. */
type NoArgCall = Exclude<InvokeName, 'subscribe' | 'unsubscribe' | 'setLimitRate' | 'setAutoUpdate'>;

export function createApiClient(transport: ApiTransport): VmCacheApi {
  const call =
    <K extends NoArgCall>(name: K) =>
    (): Promise<Result<InvokeValue<K>>> =>
      transport.invoke(CHANNELS[name], []) as Promise<Result<InvokeValue<K>>>;

  /**
   * One argument crosses, as a number or null. The main side judges the value
   * (a minimum, a finite number); this only keeps what a transport could not
   * carry faithfully from crossing at all: JSON (the preview's socket) turns
   * NaN, Infinity and a missing argument into null, which means "no limit".
   */
  const setLimitRate = (bytesPerSecond: number | null): Promise<Result<InvokeValue<'setLimitRate'>>> => {
    if (bytesPerSecond !== null && !(typeof bytesPerSecond === 'number' && Number.isFinite(bytesPerSecond))) {
      return Promise.resolve({
        ok: false,
        code: 'ERR_INVALID_REQUEST',
        message: `${CHANNELS.setLimitRate}: bytesPerSecond must be a number, or null for no limit`,
      });
    }
    return transport.invoke(CHANNELS.setLimitRate, [bytesPerSecond]) as Promise<
      Result<InvokeValue<'setLimitRate'>>
    >;
  };

  /** One argument crosses, and only a boolean: a page's "yes" or 1 is refused here, not turned into true. */
  const setAutoUpdate = (enabled: boolean): Promise<Result<InvokeValue<'setAutoUpdate'>>> => {
    if (typeof enabled !== 'boolean') {
      return Promise.resolve({
        ok: false,
        code: 'ERR_INVALID_REQUEST',
        message: `${CHANNELS.setAutoUpdate}: enabled must be true or false`,
      });
    }
    return transport.invoke(CHANNELS.setAutoUpdate, [enabled]) as Promise<
      Result<InvokeValue<'setAutoUpdate'>>
    >;
  };

  // One transport listener and one subscription, however many page listeners there are.
  const listeners = new Set<{ listener: ProgressListener }>();
  let stopListening: (() => void) | undefined;
  const deliver = (progress: SyncProgress) => {
    for (const entry of [...listeners]) {
      try {
        entry.listener(progress);
      } catch {
        // One broken page listener must not starve the others.
      }
    }
  };

  const onProgress = (listener: ProgressListener): (() => void) => {
    if (typeof listener !== 'function') throw new TypeError('vmCache.onProgress expects a function');
    // An entry object per call, so the same function registered twice unsubscribes one at a time.
    const entry = { listener };
    if (listeners.size === 0) {
      // Listen before subscribing: the main side sends the in-flight snapshot right away.
      stopListening = transport.listen(deliver);
      transport.invoke(CHANNELS.subscribe, []).catch(() => {});
    }
    listeners.add(entry);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      listeners.delete(entry);
      if (listeners.size === 0) {
        stopListening?.();
        stopListening = undefined;
        transport.invoke(CHANNELS.unsubscribe, []).catch(() => {});
      }
    };
  };

  return {
    getStatus: call('getStatus'),
    sync: call('sync'),
    cancel: call('cancel'),
    pause: call('pause'),
    resume: call('resume'),
    verify: call('verify'),
    clear: call('clear'),
    getLimitRate: call('getLimitRate'),
    setLimitRate,
    getSettings: call('getSettings'),
    setAutoUpdate,
    moveCache: call('moveCache'),
    onProgress,
  } satisfies VmCacheApi;
}
