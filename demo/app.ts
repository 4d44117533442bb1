// The demo app `npm start` launches: a stand-in for a host app that embeds
// the plugin. With no VM_CACHE_MANIFEST_URL it serves the project's own
// generated artifacts on 127.0.0.1 (throttled so progress is worth watching),
// so a newcomer sees the whole flow with no CDN. Electron is passed in, so the
// wiring is testable up to Electron's own objects.
import path from 'node:path';
import type { App, BrowserWindow, Menu } from 'electron';
import type { VmCacheLogger } from '../main/electron/index.js';
// Electron passed in: test/demo runs the demo in plain Node with stand-ins.
import {
  createSecureWindow,
  type ElectronParts,
  ensurePagesScheme,
  setupVmCacheWith,
  type VmCacheSetup,
} from '../main/electron/with-parts.js';
import { DEMO_THROTTLE_BYTES_PER_SEC, demoArtifacts, startArtifactServer } from '../server/index.js';
import { demoMenuTemplate } from './menu.js';

export interface DemoElectronParts extends ElectronParts {
  app: Pick<App, 'whenReady' | 'isReady' | 'getPath' | 'getAppPath' | 'isPackaged' | 'on' | 'quit'>;
  Menu: Pick<typeof Menu, 'buildFromTemplate' | 'setApplicationMenu'>;
}

export interface ManifestSource {
  manifestUrl: string;
  /** True when the demo's own artifact server is serving it. */
  local: boolean;
  close(): Promise<void>;
}

/** The manifest the demo syncs from: VM_CACHE_MANIFEST_URL, else a local artifact server. */
export async function demoManifestSource(env: NodeJS.ProcessEnv = process.env): Promise<ManifestSource> {
  const fromEnv = env.VM_CACHE_MANIFEST_URL?.trim();
  if (fromEnv) return { manifestUrl: fromEnv, local: false, close: async () => {} };
  const server = await startArtifactServer({
    artifacts: demoArtifacts(),
    throttleBytesPerSec: DEMO_THROTTLE_BYTES_PER_SEC,
  });
  return { manifestUrl: server.manifestUrl, local: true, close: () => server.close() };
}

export interface DemoApp {
  vmCache: VmCacheSetup;
  source: ManifestSource;
  root: string;
  openMainWindow(): BrowserWindow;
}

export async function startDemoApp(
  electron: DemoElectronParts,
  deps: { logger?: VmCacheLogger; logPath?: string | null; env?: NodeJS.ProcessEnv } = {},
): Promise<DemoApp> {
  const env = deps.env ?? process.env;
  const { app } = electron;
  // Before the first await: Electron makes a scheme privileged only before
  // 'ready', and starting the manifest source below takes a while.
  ensurePagesScheme(electron.protocol, app);
  const source = await demoManifestSource(env);
  const fromEnv = env.VM_CACHE_ROOT?.trim();
  const root = fromEnv ? path.resolve(fromEnv) : path.join(app.getPath('userData'), 'vm-cache');
  let vmCache: VmCacheSetup;
  try {
    vmCache = setupVmCacheWith(electron, {
      root,
      manifestUrl: source.manifestUrl,
      ...(deps.logger ? { logger: deps.logger } : {}),
      logPath: deps.logPath ?? null,
      // `npm run dev`: the pages come from electron-vite's dev server. Only when
      // unpackaged: in an installed app an environment variable must not choose
      // what the windows with the plugin's preload load (setup checks it too).
      ...(!app.isPackaged && env.ELECTRON_RENDERER_URL ? { devServerUrl: env.ELECTRON_RENDERER_URL } : {}),
    });
  } catch (err) {
    // A refused setup (a remote dev server URL, a missing page) must not leave the artifact server running.
    await source.close().catch(() => {});
    throw err;
  }
  deps.logger?.info(
    `demo: syncing ${source.manifestUrl}${source.local ? ' (local artifact server)' : ''} into ${root}`,
  );

  let mainWindow: BrowserWindow | undefined;
  const openMainWindow = (): BrowserWindow => {
    if (mainWindow && !mainWindow.isDestroyed()) {
      mainWindow.focus();
      return mainWindow;
    }
    const win = createSecureWindow(electron.BrowserWindow, { title: 'Host app', width: 900, height: 600 });
    mainWindow = win;
    // The host's window shows an update downloading on later launches on its taskbar button.
    vmCache.registerWindow(win);
    win.loadURL(placeholderPage(root)).catch(() => {});
    return win;
  };

  // Closing the first-run screen is its "Open app": with a complete cache the
  // host's window opens; without one the app quits (nothing to run yet).
  let handingOver: Promise<void> | undefined;
  const firstRunWatched = new WeakSet<BrowserWindow>();
  const openFirstRun = (): BrowserWindow => {
    const win = vmCache.openFirstRunWindow();
    if (!firstRunWatched.has(win)) {
      firstRunWatched.add(win);
      win.on('close', () => {
        handingOver = vmCache.controller
          .hasCompleteCache()
          .then((complete) => {
            if (complete) openMainWindow();
            else if (!mainWindow || mainWindow.isDestroyed()) app.quit();
          })
          .catch(() => app.quit())
          .finally(() => {
            handingOver = undefined;
          });
      });
    }
    return win;
  };

  app.on('window-all-closed', () => {
    if (!handingOver) app.quit();
  });
  app.on('will-quit', () => {
    vmCache.dispose();
    source.close().catch(() => {});
  });

  await app.whenReady();
  electron.Menu.setApplicationMenu(
    electron.Menu.buildFromTemplate(
      demoMenuTemplate({
        openApp: () => openMainWindow(),
        openFirstRun: () => openFirstRun(),
        openSettings: () => vmCache.openSettingsWindow(),
      }),
    ),
  );
  if (await vmCache.controller.hasCompleteCache()) openMainWindow();
  else openFirstRun();
  return { vmCache, source, root, openMainWindow };
}

/** The host app's window, reduced to a note: the demo has no app of its own to run. */
export function placeholderPage(root: string): string {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Host app</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:3rem;max-width:40rem}
@media (prefers-color-scheme:dark){body{background:#1e1e1e;color:#eee}}</style></head>
<body><h1>Your app goes here</h1>
<p>The VM images are in place in <code>${escapeHtml(root)}</code>.</p>
<p>Open <strong>VM Images → Settings…</strong> from the menu to check for updates, verify or clear the cache.</p>
</body></html>`;
  return `data:text/html;charset=utf-8,${encodeURIComponent(html)}`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
