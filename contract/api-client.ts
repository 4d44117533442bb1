// The one way a VmCacheApi is made, whatever carries the calls: IPC in the
// preload, a WebSocket in the browser preview. A transport only sends a call
// on its channel and delivers progress payloads; the page-facing behaviour
// lives here once. No zod (the preload bundles this): channel names come from
// channels.ts, types only from api.ts.
import type { InvokeName, InvokeValue, Result, VmCacheApi } from './api.js';
import { CHANNELS } from './channels.js';
import type { ProgressListener, SyncProgress } from './progress.js';

export type { ProgressListener };

export interface ApiTransport {
  /** Sends one call on `channel` with no arguments (a page cannot smuggle any through). */
  invoke(channel: string): Promise<Result<unknown>>;
  /** Starts delivering progress payloads to `deliver`; returns the function that stops it. */
  listen(deliver: ProgressListener): () => void;
}

type PageCall = Exclude<InvokeName, 'subscribe' | 'unsubscribe'>;

export function createApiClient(transport: ApiTransport): VmCacheApi {
  const call =
    <K extends PageCall>(name: K) =>
    (): Promise<Result<InvokeValue<K>>> =>
      transport.invoke(CHANNELS[name]) as Promise<Result<InvokeValue<K>>>;

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
      transport.invoke(CHANNELS.subscribe).catch(() => {});
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
        transport.invoke(CHANNELS.unsubscribe).catch(() => {});
      }
    };
  };

  return {
    getStatus: call('getStatus'),
    sync: call('sync'),
    cancel: call('cancel'),
    verify: call('verify'),
    clear: call('clear'),
    onProgress,
  } satisfies VmCacheApi;
}
