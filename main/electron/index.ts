// The host app's entry to the plugin: `setupVmCache(options)` with the real
// Electron modules and electron-log. Everything it does is in setup.ts.
import { app, BrowserWindow, ipcMain, net, session } from 'electron';
import { createVmCacheLog } from './log.js';
import { type SetupVmCacheOptions, setupVmCacheWith, type VmCacheSetup } from './setup.js';

export { CONTENT_SECURITY_POLICY } from './csp.js';
export type { SetupVmCacheOptions, VmCacheSetup } from './setup.js';
export { SECURE_WEB_PREFERENCES } from './windows.js';

export function setupVmCache(options: SetupVmCacheOptions = {}): VmCacheSetup {
  const log = options.logger === undefined ? createVmCacheLog() : undefined;
  return setupVmCacheWith(
    { app, BrowserWindow, ipcMain, net, session },
    {
      ...options,
      ...(log ? { logger: log.logger } : {}),
      logPath: options.logPath ?? log?.logPath ?? null,
    },
  );
}
