// The host's main process: its own window, and electron-vm-cache set up once.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow } from 'electron';
import { setupVmCache } from 'electron-vm-cache/main/electron';

const MANIFEST_URL = process.env.VM_CACHE_MANIFEST_URL || 'https://cdn.example.com/vm/manifest.json';
const rendererDir = path.join(import.meta.dirname, '../renderer');
// electron-vite dev serves this app's pages from a dev server; a packaged app never does.
const devServerUrl = app.isPackaged ? undefined : process.env.ELECTRON_RENDERER_URL;

const vmCache = setupVmCache({
  manifestUrl: MANIFEST_URL,
  // This app's own pages may use window.vmCache: its built renderer folder, and the dev server in dev.
  allowedOrigins: [pathToFileURL(rendererDir).href, ...(devServerUrl ? [devServerUrl] : [])],
});

function openMainWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 900,
    height: 640,
    webPreferences: {
      // This app's preload, which calls exposeVmCache() (src/preload/index.ts).
      preload: path.join(import.meta.dirname, '../preload/index.cjs'),
      sandbox: true,
      contextIsolation: true,
    },
  });
  vmCache.registerWindow(win);
  if (devServerUrl) void win.loadURL(devServerUrl);
  else void win.loadFile(path.join(rendererDir, 'index.html'));
  return win;
}

app.whenReady().then(async () => {
  openMainWindow();
  // First run: the plugin's own download screen until the images are in place.
  if (!(await vmCache.controller.hasCompleteCache())) vmCache.openFirstRunWindow();
});

app.on('window-all-closed', () => app.quit());
app.on('will-quit', () => vmCache.dispose());
