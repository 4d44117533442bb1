// The public entry setupVmCache() hands the real module's Notification,
// powerMonitor and dialog to the background parts (here the `electron` module
// is the stand-ins, with those three in it; wiring.test.ts runs the same
// entry with a module that lacks them).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_DESKTOP_WORDS } from '../../main/electron/desktop-words.js';
import type { VmCacheSetup } from '../../main/electron/index.js';
import type { BackgroundStandIns } from './background-stand-ins.js';
import { fakeWindow } from './electron-stand-ins.js';
import { dripServer, recordingLogger, waitFor } from './support.js';

const fakes = vi.hoisted(() => ({ standIns: undefined as BackgroundStandIns | undefined }));

vi.mock('electron', async () => {
  const { backgroundStandIns } = await import('./background-stand-ins.js');
  fakes.standIns = backgroundStandIns(mkdtempSync(path.join(os.tmpdir(), 'vm-cache-userdata-')));
  const { app, ipcMain, BrowserWindow, net, protocol, session, Notification, powerMonitor, dialog } =
    fakes.standIns.parts;
  return { app, ipcMain, BrowserWindow, net, protocol, session, Notification, powerMonitor, dialog };
});

// Never reached (the tests pass a logger), but log.ts imports it.
vi.mock('electron-log/main', () => ({ default: { create: () => ({}) } }));

const setups: VmCacheSetup[] = [];
afterEach(() => {
  while (setups.length > 0) setups.pop()!.dispose();
});

afterAll(() => {
  const userData = fakes.standIns?.app.getPath('userData');
  if (userData) rmSync(userData, { recursive: true, force: true });
});

describe('setupVmCache (the real entry) and the download in the background', () => {
  it('takes Notification, powerMonitor and dialog from the electron module', async () => {
    const { setupVmCache } = await import('../../main/electron/index.js');
    const { s } = await dripServer(400_000, 800_000);
    const e = fakes.standIns!;
    const vm = setupVmCache({ manifestUrl: s.manifestUrl, logger: recordingLogger(), firstRunClose: 'ask' });
    setups.push(vm);
    const firstRun = fakeWindow(vm.openFirstRunWindow());
    e.app.becomeReady();
    await waitFor(() => vm.controller.currentProgress()?.phase === 'downloading', 5_000, 'the download');
    expect(e.powerMonitor.listenerCount('resume')).toBe(1);
    firstRun.close();
    expect(e.dialog.asked).toHaveLength(1);
    e.dialog.asked[0]!.answer(0);
    await vm.controller.sync();
    await waitFor(() => e.notifications.length > 0, 2_000, 'the notification');
    expect(e.notifications[0]!.options.title).toBe(DEFAULT_DESKTOP_WORDS.readyTitle);
    expect(firstRun.progressBar.length).toBeGreaterThan(0);
    vm.dispose();
    expect(e.powerMonitor.listenerCount('resume')).toBe(0);
  });
});
