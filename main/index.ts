// The demo app's main-process entry (electron-vite's main bundle). A host app
// would instead call setupVmCache() from main/electron/index.ts in its own main.
import { app, BrowserWindow, ipcMain, Menu, net, session } from 'electron';
import { startDemoApp } from './app.js';
import { createVmCacheLog } from './electron/log.js';

const log = createVmCacheLog();
startDemoApp({ app, BrowserWindow, ipcMain, Menu, net, session }, log).catch((err: unknown) => {
  log.logger.error('the demo app failed to start:', err);
  app.exit(1);
});
