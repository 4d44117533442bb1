// Channel names alone, with no zod: the preload bundles only this (a couple of
// kB) while main validates with the schemas in api.ts, which use these names.

/** Every channel starts with this prefix; the preload exposes no other. */
export const CHANNEL_PREFIX = 'vm-cache:';

/** Request/response calls (ipcRenderer.invoke / ipcMain.handle). */
export const CHANNELS = {
  getStatus: 'vm-cache:get-status',
  sync: 'vm-cache:sync',
  cancel: 'vm-cache:cancel',
  pause: 'vm-cache:pause',
  resume: 'vm-cache:resume',
  verify: 'vm-cache:verify',
  clear: 'vm-cache:clear',
  getLimitRate: 'vm-cache:get-limit-rate',
  setLimitRate: 'vm-cache:set-limit-rate',
  getSettings: 'vm-cache:get-settings',
  setAutoUpdate: 'vm-cache:set-auto-update',
  moveCache: 'vm-cache:move-cache',
  subscribe: 'vm-cache:subscribe',
  unsubscribe: 'vm-cache:unsubscribe',
} as const;

/** main -> renderer: one SyncProgress per message. */
export const PROGRESS_CHANNEL = 'vm-cache:progress';
