// The settings of issue 17 point 5 through setupVmCache, with stand-ins for
// Electron's own objects only (app, ipcMain, windows, dialog): the settings
// file on disk, the controller, the engine and the artifact server are real.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { INVOKE } from '../../contract/api.js';
import type { SyncProgress } from '../../contract/progress.js';
import { type SetupVmCacheOptions, setupVmCacheWith, type VmCacheSetup } from '../../main/electron/setup.js';
import type { ArtifactServer } from '../../server/index.js';
import { oneArtifactServer, tempRoot } from '../helpers.js';
import { type BackgroundStandIns, backgroundStandIns } from './background-stand-ins.js';
import { asBrowserWindow, FakeBrowserWindow, fakeWindow } from './electron-stand-ins.js';
import { hostBuild } from './host-build.js';
import { dripServer, waitFor } from './support.js';

const { rendererDir: RENDERER_DIR, preloadPath: PRELOAD } = hostBuild('vm-cache-settings-');

const setups: VmCacheSetup[] = [];
afterEach(() => {
  while (setups.length > 0) setups.pop()!.dispose();
});

function start(s: ArtifactServer, userData: string, options: SetupVmCacheOptions = {}) {
  const e = backgroundStandIns(userData);
  const vm = setupVmCacheWith(e.parts, {
    manifestUrl: s.manifestUrl,
    rendererDir: RENDERER_DIR,
    preloadPath: PRELOAD,
    ...options,
  });
  setups.push(vm);
  return { e, vm };
}

/** A few turns of the event loop after 'ready': long enough for a launch sync to have asked for the manifest. */
async function afterReady(e: BackgroundStandIns): Promise<void> {
  e.app.becomeReady();
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

async function settingsPage(e: BackgroundStandIns, vm: VmCacheSetup) {
  const win = fakeWindow(vm.openSettingsWindow());
  const call = (name: keyof typeof INVOKE, ...args: unknown[]) =>
    e.ipcMain.invoke(win.webContents, INVOKE[name].channel, args);
  return { win, call };
}

describe('"Download updates automatically"', () => {
  it('turned off in the settings page: the next launch runs no sync; turned on again: it does', async () => {
    const s = await oneArtifactServer();
    const userData = await tempRoot();
    const first = start(s, userData);
    await afterReady(first.e);
    await waitFor(() => first.e.fetchCalls.length > 0, 5_000, 'the launch sync');
    await first.vm.controller.sync();
    const page = await settingsPage(first.e, first.vm);
    expect(await page.call('getSettings')).toEqual({
      ok: true,
      value: { autoUpdate: true, canMoveCache: true },
    });
    expect(await page.call('setAutoUpdate', false)).toEqual({
      ok: true,
      value: { autoUpdate: false, canMoveCache: true },
    });
    expect(JSON.parse(await fs.readFile(path.join(userData, 'vm-cache-settings.json'), 'utf8'))).toEqual({
      autoUpdate: false,
    });
    first.vm.dispose();

    const second = start(s, userData);
    await afterReady(second.e);
    expect(second.e.fetchCalls).toEqual([]);
    expect(second.vm.controller.syncing).toBe(false);
    const again = await settingsPage(second.e, second.vm);
    expect(await again.call('getSettings')).toMatchObject({ ok: true, value: { autoUpdate: false } });
    await again.call('setAutoUpdate', true);
    second.vm.dispose();

    const third = start(s, userData);
    await afterReady(third.e);
    await waitFor(
      () => third.vm.controller.syncing || third.e.fetchCalls.length > 0,
      5_000,
      'the launch sync',
    );
    expect(third.e.fetchCalls[0]).toBe(s.manifestUrl);
  });

  it('the host’s prefetchOnReady: false is the default until the user chooses; settingsFile: null keeps no file', async () => {
    const s = await oneArtifactServer();
    const userData = await tempRoot();
    const { e, vm } = start(s, userData, { prefetchOnReady: false, settingsFile: null });
    await afterReady(e);
    expect(e.fetchCalls).toEqual([]);
    const page = await settingsPage(e, vm);
    expect(await page.call('getSettings')).toMatchObject({ ok: true, value: { autoUpdate: false } });
    await page.call('setAutoUpdate', true);
    expect(await fs.readdir(userData)).not.toContain('vm-cache-settings.json');
  });
});

describe('a download the user paused', () => {
  // The second setup runs in this process, where the engine also remembers the pause in memory;
  // that another process (or the next run) reads it from <root>/state/paused.json is test/engine/pause.test.ts.
  it('stays paused across a restart: the launch sync leaves it, every page reads Paused, Resume goes on', async () => {
    const { s } = await dripServer(900_000, 300_000);
    const userData = await tempRoot();
    const first = start(s, userData);
    first.e.app.becomeReady();
    await waitFor(
      () => (first.vm.controller.currentProgress()?.receivedBytes ?? 0) > 100_000,
      5_000,
      'the launch download',
    );
    const page = await settingsPage(first.e, first.vm);
    expect(await page.call('pause')).toEqual({ ok: true, value: { paused: true } });
    first.vm.dispose();
    const served = s.requests.length;

    const second = start(s, userData);
    await afterReady(second.e);
    // Give a launch sync time to show itself: none comes.
    await new Promise((r) => setTimeout(r, 200));
    expect(second.vm.controller.syncing).toBe(false);
    expect(s.requests.length).toBe(served);
    const again = await settingsPage(second.e, second.vm);
    const status = (await again.call('getStatus')) as { ok: true; value: { progress: SyncProgress | null } };
    expect(status.value.progress).toMatchObject({ phase: 'cancelled', paused: true });
    expect(status.value.progress!.receivedBytes).toBeGreaterThan(100_000);
    expect(await again.call('resume')).toMatchObject({ ok: true, value: { skipped: false } });
    expect(await second.vm.controller.hasCompleteCache()).toBe(true);
    expect(await second.vm.controller.isPaused()).toBe(false);
  });
});

describe('"Move cache to…": the folder comes from Electron’s picker', () => {
  it('opens the picker modal to the settings window; closing it moves nothing', async () => {
    const s = await oneArtifactServer();
    const { e, vm } = start(s, await tempRoot(), { prefetchOnReady: false });
    await afterReady(e);
    await vm.controller.sync();
    const before = vm.controller.root;
    const page = await settingsPage(e, vm);
    const moving = page.call('moveCache');
    await waitFor(() => e.dialog.pickers.length === 1, 5_000, 'the folder picker');
    const picker = e.dialog.pickers[0]!;
    expect(picker.window).toBe(page.win);
    expect(picker.options.properties).toContain('openDirectory');
    expect(picker.options.title).toBe('Move VM images to…');
    picker.choose(null);
    expect(await moving).toEqual({ ok: true, value: { moved: false, root: before, movedBytes: 0 } });
    expect(vm.controller.root).toBe(before);
    expect(await vm.controller.hasCompleteCache()).toBe(true);
  });

  it('modal to the window that asked: a registered host window gets it over itself, not over the settings page', async () => {
    const s = await oneArtifactServer();
    const { e, vm } = start(s, await tempRoot(), { prefetchOnReady: false, allowedOrigins: ['app://host'] });
    await afterReady(e);
    await settingsPage(e, vm); // open, but not the one that asks
    const host = new FakeBrowserWindow({ title: 'Host app' });
    host.webContents.mainFrame.url = 'app://host/index.html';
    vm.registerWindow(asBrowserWindow(host));
    const moving = e.ipcMain.invoke(host.webContents, INVOKE.moveCache.channel, []);
    await waitFor(() => e.dialog.pickers.length === 1, 5_000, 'the folder picker');
    expect(e.dialog.pickers[0]!.window).toBe(host);
    e.dialog.pickers[0]!.choose(null);
    expect(await moving).toMatchObject({ ok: true, value: { moved: false } });
  });

  it('a host dialog without showOpenDialog: moving is not offered, and a page that asks anyway is told why', async () => {
    const s = await oneArtifactServer();
    const e = backgroundStandIns(await tempRoot());
    const vm = setupVmCacheWith(
      { ...e.parts, dialog: { showMessageBox: e.dialog.showMessageBox.bind(e.dialog) } },
      { manifestUrl: s.manifestUrl, rendererDir: RENDERER_DIR, preloadPath: PRELOAD, prefetchOnReady: false },
    );
    setups.push(vm);
    const page = await settingsPage(e, vm);
    expect(await page.call('getSettings')).toMatchObject({ ok: true, value: { canMoveCache: false } });
    expect(await page.call('moveCache')).toMatchObject({ ok: false, code: 'ERR_INVALID_REQUEST' });
  });
});
