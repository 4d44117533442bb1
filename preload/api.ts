// window.vmCache, built from the contract's channel table: each call is one
// ipcRenderer.invoke on the contract's channel, with no arguments forwarded
// (a page cannot smuggle anything through), and progress arrives through one
// IPC listener that hands the page the payload only, never the IPC event
// (which would carry `sender`, a handle on ipcRenderer itself).
import type { IpcRenderer, IpcRendererEvent } from 'electron';
// Types only from api.ts (it holds the zod schemas); the names come from the zod-free channels.ts.
import type { InvokeName, InvokeValue, Result, VmCacheApi } from '../contract/api.js';
import { CHANNELS, PROGRESS_CHANNEL } from '../contract/channels.js';
import type { SyncProgress } from '../contract/progress.js';

export type PreloadIpc = Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;
type PageCall = Exclude<InvokeName, 'subscribe' | 'unsubscribe'>;
type ProgressListener = (progress: SyncProgress) => void;

export function createVmCacheApi(ipc: PreloadIpc): VmCacheApi {
  const invoke = <K extends PageCall>(name: K): Promise<Result<InvokeValue<K>>> => ipc.invoke(CHANNELS[name]);

  // One IPC listener and one main-side subscription, however many page listeners there are.
  const listeners = new Set<{ listener: ProgressListener }>();
  const onIpcProgress = (_event: IpcRendererEvent, progress: SyncProgress) => {
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
      // Listen before subscribing: main sends the in-flight snapshot right away.
      ipc.on(PROGRESS_CHANNEL, onIpcProgress);
      ipc.invoke(CHANNELS.subscribe).catch(() => {});
    }
    listeners.add(entry);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      listeners.delete(entry);
      if (listeners.size === 0) {
        ipc.removeListener(PROGRESS_CHANNEL, onIpcProgress);
        ipc.invoke(CHANNELS.unsubscribe).catch(() => {});
      }
    };
  };

  return {
    getStatus: () => invoke('getStatus'),
    sync: () => invoke('sync'),
    cancel: () => invoke('cancel'),
    verify: () => invoke('verify'),
    clear: () => invoke('clear'),
    onProgress,
  } satisfies VmCacheApi;
}
