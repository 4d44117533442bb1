// The preload of the plugin's windows (built as CommonJS: a sandboxed preload
// cannot be an ES module). It exposes window.vmCache and nothing else.
import { contextBridge, ipcRenderer } from 'electron';
import { createVmCacheApi } from './api.js';

contextBridge.exposeInMainWorld('vmCache', createVmCacheApi(ipcRenderer));
