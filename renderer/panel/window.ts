// window.vmCache, typed from the contract (never a hand-written copy of the API).
// The preload (Electron) or the preview's WebSocket bridge defines it.
import type { VmCacheApi } from '../../contract/api.js';

declare global {
  interface Window {
    vmCache: VmCacheApi;
  }
}

/** window.vmCache when a bridge defined it; undefined in a page without one. */
export function windowApi(): VmCacheApi | undefined {
  return (window as Partial<Window>).vmCache;
}
