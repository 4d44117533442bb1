// setupVmCache's body, with Electron passed in: one call wires the controller,
// the IPC hub, the plugin's windows and the launch sync. index.ts hands it the
// real Electron modules; tests hand it stand-ins for those objects only.
import path from 'node:path';
import type { BrowserWindow, Session, WebContents, WebPreferences } from 'electron';
import { VmCacheController, type VmCacheControllerOptions } from '../service/controller.js';
import { definedOnly } from '../service/defined-only.js';
import { defaultSenderPolicy, VmCacheHub } from '../service/hub.js';
import { SettingsStore } from '../service/settings.js';
import { BackgroundDownload, type BackgroundOptions, checkFirstRunClose } from './background.js';
import { desktopWords } from './desktop-words.js';
import { folderPicker } from './folder-picker.js';
import { registerIpc } from './ipc.js';
import { netRequestFetch } from './net-request-fetch.js';
import { assertPluginFiles, installedPluginFiles, type PluginFiles } from './package-files.js';
import { assertLocalDevServer, type PageName, type PageSource, pageLocation, pageOrigins } from './pages.js';
import { ensurePagesScheme, PAGES_SCHEME } from './pages-scheme.js';
import { SenderRegistry } from './senders.js';
import { createPluginSession } from './session.js';
import type { ElectronParts } from './types.js';
import { createSecureWindow, SECURE_WEB_PREFERENCES } from './windows.js';

/**
 * The controller's options (the engine's sync choices, the logger, the log
 * path, other engine options), less what setup decides itself: the network
 * (Electron's, through net.request) and the arch (the running one).
 */
export interface SetupVmCacheOptions
  extends Omit<VmCacheControllerOptions, 'root' | 'fetchImpl' | 'rawHostArch' | 'settings' | 'autoUpdate'>,
    BackgroundOptions {
  /** Cache root. Default `<userData>/vm-cache`. Where the user moved the cache ("Move cache to…") wins. */
  root?: string;
  /**
   * Start a sync when the app is ready (launch does not wait for it), until the
   * user chooses otherwise ("Download updates automatically"). Default true.
   */
  prefetchOnReady?: boolean;
  /**
   * Where the user's choices are kept (the cache's root after a move, the
   * launch sync, the bandwidth cap): a small JSON file. null keeps them in
   * memory only. Default `<userData>/vm-cache-settings.json`.
   */
  settingsFile?: string | null;
  /** Folder with first-run.html and settings.html. Default: the installed package's `dist/pages`. */
  rendererDir?: string;
  /**
   * Load the plugin's pages from this dev server instead (for working on the plugin itself).
   * Never used in a packaged app (`app.isPackaged`); must be http(s) on localhost/127.x/[::1]
   * (setup throws otherwise). Default: none.
   */
  devServerUrl?: string;
  /** The preload of the plugin's windows. Default: the installed package's `electron-vm-cache/preload`. */
  preloadPath?: string;
  /** More origins (or file:// folder prefixes) whose main frames may use the API, in registered windows. */
  allowedOrigins?: string[];
  /** Progress messages per window at most once per this (ms). Default 100. */
  progressIntervalMs?: number;
}

export interface VmCacheSetup {
  controller: VmCacheController;
  hub: VmCacheHub;
  /** The preload the plugin's windows use (exists; checked at setup). */
  preloadPath: string;
  /**
   * webPreferences for a host window that shows the panel with the plugin's preload:
   * isolated, sandboxed, no Node, plus `overrides`. Register the window afterwards.
   */
  webPreferences(overrides?: WebPreferences): WebPreferences;
  /** The first-run screen (the panel full-size); focuses it if already open. */
  openFirstRunWindow(): BrowserWindow;
  /** The settings page (the compact panel); focuses it if already open. */
  openSettingsWindow(): BrowserWindow;
  /**
   * Lets a host window (its own page with the panel in it) use window.vmCache,
   * and shows the download's progress on its taskbar button / the dock.
   */
  registerWindow(target: BrowserWindow | WebContents): void;
  /**
   * Removes the IPC handlers, drops every subscription, clears the taskbar
   * progress, stops following sleep and cancels the sync (its partial is kept).
   */
  dispose(): void;
}

const WINDOW_SIZES: Record<PageName, { title: string; width: number; height: number }> = {
  'first-run': { title: 'Downloading VM images', width: 820, height: 640 },
  settings: { title: 'VM images', width: 560, height: 520 },
};

export function setupVmCacheWith(electron: ElectronParts, options: SetupVmCacheOptions = {}): VmCacheSetup {
  // A dev server is for working on the plugin's pages; a packaged app only ever loads its own files.
  const devServerUrl = electron.app.isPackaged ? undefined : options.devServerUrl || undefined;
  if (options.devServerUrl && electron.app.isPackaged)
    options.logger?.warn('devServerUrl is ignored in a packaged app: the pages load from the package');
  // Before the preload goes to any window: a dev server is on this machine or not used at all.
  if (devServerUrl !== undefined) assertLocalDevServer(devServerUrl);
  checkFirstRunClose(options.firstRunClose);
  // Looked up once, and only for what the options leave out.
  let installed: PluginFiles | undefined;
  const fromPackage = () =>
    (installed ??= installedPluginFiles([
      path.join(electron.app.getAppPath(), 'package.json'),
      import.meta.url,
    ]));
  const files: PluginFiles = {
    preloadPath: options.preloadPath ?? fromPackage().preloadPath,
    rendererDir: options.rendererDir ?? fromPackage().rendererDir,
  };
  assertPluginFiles(files, devServerUrl === undefined);
  // The built pages load from the plugin's scheme when it could be made privileged (before 'ready').
  const scheme = devServerUrl === undefined && ensurePagesScheme(electron.protocol, electron.app);
  if (devServerUrl === undefined && !scheme)
    options.logger?.warn(
      `setupVmCache ran after the app was ready, so the ${PAGES_SCHEME}:// scheme could not be registered and ` +
        "the plugin's pages load from file:// (which fails where the grantFileProtocolExtraPrivileges fuse is off); " +
        'call setupVmCache, or registerVmCacheScheme(), before app.whenReady()',
    );
  const source: PageSource = { rendererDir: files.rendererDir, devServerUrl, scheme };

  const {
    root,
    prefetchOnReady,
    settingsFile,
    rendererDir: _rendererDir,
    devServerUrl: _devServerUrl,
    preloadPath: _preloadPath,
    allowedOrigins: _allowedOrigins,
    progressIntervalMs: _progressIntervalMs,
    firstRunClose: _firstRunClose,
    taskbarProgress: _taskbarProgress,
    notifications: _notifications,
    resumeAfterSleep: _resumeAfterSleep,
    desktopWords: _desktopWords,
    ...forController
  } = options;
  const userData = () => electron.app.getPath('userData');
  // Read now: the root a move chose is needed before anything touches the cache.
  const settings = SettingsStore.load(
    settingsFile === null ? undefined : (settingsFile ?? path.join(userData(), 'vm-cache-settings.json')),
    options.logger,
  );
  const controller = new VmCacheController({
    ...definedOnly(forController),
    root: root ?? path.join(userData(), 'vm-cache'),
    settings,
    autoUpdate: prefetchOnReady ?? true,
    // Electron's network stack: the system proxy (PAC, auth) and the OS certificate store apply;
    // each redirect hop comes back to the engine to judge.
    fetchImpl: netRequestFetch(electron.net),
  });

  const senders = new SenderRegistry((id) => hub.dropSender(id));
  /** The window of each page that may call (by webContents id), for dialogs modal to the one that asked. */
  const windowOfSender = new Map<number, BrowserWindow>();
  const rememberWindow = (win: BrowserWindow | null | undefined) => {
    if (!win) return;
    const id = win.webContents.id;
    windowOfSender.set(id, win);
    win.once('closed', () => {
      if (windowOfSender.get(id) === win) windowOfSender.delete(id);
    });
  };
  const pagePolicy = defaultSenderPolicy([...pageOrigins(source), ...(options.allowedOrigins ?? [])]);
  const hub: VmCacheHub = new VmCacheHub({
    controller,
    isAllowedSender: (sender) => senders.has(sender.id) && pagePolicy(sender),
    // Modal to the window whose page asked (the plugin's or a registered host window).
    pickFolder: folderPicker(electron.dialog, desktopWords(options.desktopWords), (senderId) => {
      const win = windowOfSender.get(senderId);
      return win && !win.isDestroyed() ? win : undefined;
    }),
    ...(options.progressIntervalMs === undefined ? {} : { progressIntervalMs: options.progressIntervalMs }),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  // The session needs a ready app, so it is made with the first window.
  let session: Session | undefined;
  const windows = new Map<PageName, BrowserWindow>();
  // Taskbar progress, notifications, the first-run window's close, sleep (background.ts).
  const background = new BackgroundDownload(
    {
      electron,
      controller,
      logger: options.logger,
      openSettings: () => open('settings'),
      firstRunWindow: () => windows.get('first-run'),
    },
    options,
  );
  const unregisterIpc = registerIpc(electron.ipcMain, hub);

  // The user's "Download updates automatically", else the host's prefetchOnReady.
  const prefetch = controller.autoUpdate;
  if (prefetch || background.needsReady) {
    // Not awaited by anything: the app's launch never waits for the download.
    electron.app
      .whenReady()
      .then(async () => {
        background.ready();
        if (!prefetch) return;
        // A download the user paused stays paused across restarts, until they resume it.
        if (await controller.isPaused()) {
          options.logger?.info('the download is paused: the launch sync leaves it until Resume');
          return;
        }
        return controller.prefetch();
      })
      .catch(() => {});
  }

  const open = (name: PageName): BrowserWindow => {
    const existing = windows.get(name);
    if (existing && !existing.isDestroyed()) {
      existing.focus();
      return existing;
    }
    session ??= createPluginSession(electron, source);
    const win = createSecureWindow(electron.BrowserWindow, {
      ...WINDOW_SIZES[name],
      minWidth: 360,
      minHeight: 320,
      preload: files.preloadPath,
      session,
    });
    windows.set(name, win);
    win.on('closed', () => {
      if (windows.get(name) === win) windows.delete(name);
    });
    senders.track(win.webContents);
    rememberWindow(win);
    background.addWindow(win);
    if (name === 'first-run') background.firstRunOpened(win);
    const location = pageLocation(source, name);
    const loading = location.kind === 'file' ? win.loadFile(location.path) : win.loadURL(location.url);
    loading.catch((err: unknown) => {
      options.logger?.error(
        `cannot load the ${name} page: ${err instanceof Error ? err.message : String(err)}`,
      );
    });
    return win;
  };

  return {
    controller,
    hub,
    preloadPath: files.preloadPath,
    webPreferences: (overrides = {}) => ({
      ...SECURE_WEB_PREFERENCES,
      preload: files.preloadPath,
      ...overrides,
    }),
    openFirstRunWindow: () => open('first-run'),
    openSettingsWindow: () => open('settings'),
    registerWindow: (target) => {
      if ('webContents' in target) {
        senders.track(target.webContents);
        rememberWindow(target);
        background.addWindow(target);
      } else {
        senders.track(target);
        rememberWindow(electron.BrowserWindow.fromWebContents?.(target));
        background.addContents(target);
      }
    },
    dispose: () => {
      background.dispose();
      unregisterIpc();
      hub.dispose();
      controller.cancel().catch(() => {});
    },
  };
}
