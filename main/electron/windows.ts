// Every window the plugin opens is built here, so the security settings live
// in one place: isolated, sandboxed, no Node, web security on, no navigation
// away, no popups, no <webview>.
import type { BrowserWindow, BrowserWindowConstructorOptions, WebContents, WebPreferences } from 'electron';
import type { ElectronParts } from './types.js';

export const SECURE_WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  experimentalFeatures: false,
  navigateOnDragDrop: false,
} as const satisfies WebPreferences;

export interface SecureWindowOptions {
  title: string;
  width: number;
  height: number;
  minWidth?: number;
  minHeight?: number;
  /** The vm-cache preload; omitted for pages that do not need window.vmCache. */
  preload?: string;
  session?: WebPreferences['session'];
}

export function createSecureWindow(
  BrowserWindowCtor: ElectronParts['BrowserWindow'],
  options: SecureWindowOptions,
): BrowserWindow {
  const webPreferences: WebPreferences = { ...SECURE_WEB_PREFERENCES };
  if (options.preload) webPreferences.preload = options.preload;
  if (options.session) webPreferences.session = options.session;
  const windowOptions: BrowserWindowConstructorOptions = {
    title: options.title,
    width: options.width,
    height: options.height,
    // Shown once painted, so the user never sees a blank white frame.
    show: false,
    webPreferences,
  };
  if (options.minWidth !== undefined) windowOptions.minWidth = options.minWidth;
  if (options.minHeight !== undefined) windowOptions.minHeight = options.minHeight;
  const win = new BrowserWindowCtor(windowOptions);
  lockDownContents(win.webContents);
  win.once('ready-to-show', () => win.show());
  return win;
}

/** The page stays the page it was loaded as: no navigation, no new windows, no embedded guests. */
export function lockDownContents(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}
