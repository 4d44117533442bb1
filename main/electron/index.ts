// The host app's entry to the plugin: `setupVmCache(options)` with the real
// Electron modules and electron-log. Everything it does is in setup.ts.
import * as electron from 'electron';
import { app, BrowserWindow, type CustomScheme, ipcMain, net, protocol, session } from 'electron';
import { createVmCacheLog } from './log.js';
import { registerPagesScheme } from './pages-scheme.js';
import { type SetupVmCacheOptions, setupVmCacheWith, type VmCacheSetup } from './setup.js';

export { CONTENT_SECURITY_POLICY } from '../../contract/csp.js';
export type { VmCacheLogger } from '../service/controller.js';
export type { BackgroundOptions } from './background.js';
export { DEFAULT_DESKTOP_WORDS, type DesktopWords } from './desktop-words.js';
export type { FirstRunClose } from './first-run-close.js';
export { createVmCacheLog, type VmCacheLog } from './log.js';
export { PAGES_SCHEME as VM_CACHE_SCHEME } from './pages-scheme.js';
export type { SetupVmCacheOptions, VmCacheSetup } from './setup.js';
export type { ElectronParts } from './types.js';
export { SECURE_WEB_PREFERENCES } from './windows.js';

export function setupVmCache(options: SetupVmCacheOptions = {}): VmCacheSetup {
  const log = options.logger === undefined ? createVmCacheLog() : undefined;
  return setupVmCacheWith(
    {
      app,
      BrowserWindow,
      ipcMain,
      net,
      protocol,
      session,
      Notification: optionalPart(() => electron.Notification),
      powerMonitor: optionalPart(() => electron.powerMonitor),
      dialog: optionalPart(() => electron.dialog),
    },
    {
      ...options,
      ...(log ? { logger: log.logger } : {}),
      logPath: options.logPath ?? log?.logPath ?? null,
    },
  );
}

/**
 * A part setup can do without, read off the module rather than imported by
 * name: an `electron` that lacks it (a host's stand-in module, a test
 * framework's mock that throws for a missing export) leaves it out instead of
 * failing to link or to set up.
 */
function optionalPart<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * Makes the plugin's page scheme (`vm-cache://`) privileged, with the host's
 * own schemes in the same call: Electron keeps only one call to
 * protocol.registerSchemesAsPrivileged. Call it at the top of the main file,
 * before the app is ready, instead of calling that method yourself; or not at
 * all when setupVmCache itself runs before 'ready' and the app registers no
 * schemes of its own.
 */
export function registerVmCacheScheme(...hostSchemes: CustomScheme[]): void {
  registerPagesScheme(protocol, app, hostSchemes);
}
