// The main-process service's entry (`electron-vm-cache/main/service`): the
// controller (the app's one handle on the cache) and the IPC hub (checks and
// answers a page's requests, pushes progress), plain Node with no electron, for
// a transport other than Electron's IPC (the browser preview's WebSocket, the
// benchmarks). main/electron/ wires the same two to ipcMain and windows.
export {
  type SyncChoices,
  VmCacheController,
  type VmCacheControllerOptions,
  type VmCacheLogger,
} from './controller.js';
export {
  defaultSenderPolicy,
  type Send,
  type SenderInfo,
  type SenderPolicy,
  VmCacheHub,
  type VmCacheHubOptions,
} from './hub.js';
export type { LogLimitOptions } from './log-limit.js';
