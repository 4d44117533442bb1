// window.vmCache over IPC: the contract's one API factory on an IPC transport.
// Each call is one ipcRenderer.invoke on the contract's channel, with the
// arguments the contract's client lets through (none, or setLimitRate's one),
// and progress arrives through one IPC listener that hands the page the
// payload only, never the IPC event (which would carry `sender`, a handle on
// ipcRenderer itself).
import type { IpcRenderer, IpcRendererEvent } from 'electron';
import type { Result, VmCacheApi } from '../contract/api.js';
import { createApiClient } from '../contract/api-client.js';
import { PROGRESS_CHANNEL } from '../contract/channels.js';
import type { SyncProgress } from '../contract/progress.js';

export type PreloadIpc = Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;

export function createVmCacheApi(ipc: PreloadIpc): VmCacheApi {
  return createApiClient({
    invoke: (channel, args) => ipc.invoke(channel, ...args) as Promise<Result<unknown>>,
    listen(deliver) {
      const onIpcProgress = (_event: IpcRendererEvent, progress: SyncProgress) => deliver(progress);
      ipc.on(PROGRESS_CHANNEL, onIpcProgress);
      return () => ipc.removeListener(PROGRESS_CHANNEL, onIpcProgress);
    },
  });
}
