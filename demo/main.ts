// The demo app's main-process entry (out/demo/main.js, launched by `npm start`
// with electron-vite's --entry, since the package's own "main" is the engine).
// A host app would instead call setupVmCache() from
// 'electron-vm-cache/main/electron' in its own main: examples/host-app.
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  Notification,
  net,
  powerMonitor,
  protocol,
  session,
} from 'electron';
import { createVmCacheLog } from '../main/electron/index.js';
import { startDemoApp } from './app.js';

// Launched from a file rather than a folder, Electron reads no package.json:
// name the app before anything asks for userData, so the demo's data has its own folder.
app.setName('Electron VM Cache Demo');
const log = createVmCacheLog();
startDemoApp(
  { app, BrowserWindow, ipcMain, Menu, net, protocol, session, Notification, powerMonitor, dialog },
  log,
).catch((err: unknown) => {
  log.logger.error('the demo app failed to start:', err);
  app.exit(1);
});
