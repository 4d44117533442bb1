// exposeVmCache(): window.vmCache for a host app that has a preload of its
// own (call it from there). It needs only `electron` and the contract's
// zod-free channel table, so a bundler can inline it into a sandboxed
// preload, which cannot require anything at run time.
import { contextBridge, ipcRenderer } from 'electron';
import { createVmCacheApi } from './api.js';

/** Exposes window.vmCache (and nothing else) to the page; needs contextIsolation. */
export function exposeVmCache(): void {
  contextBridge.exposeInMainWorld('vmCache', createVmCacheApi(ipcRenderer));
}
