import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_DESKTOP_WORDS } from '../../main/electron/desktop-words.js';
import { NOTICE_DELAY_MS } from '../../main/electron/first-run-close.js';
import { type SetupVmCacheOptions, setupVmCacheWith, type VmCacheSetup } from '../../main/electron/setup.js';
import { BAR_INTERVAL_MS } from '../../main/electron/taskbar-progress.js';
import { getPausedVmCacheSync } from '../../main/engine/index.js';
import type { ArtifactServer } from '../../server/index.js';
import { keyOf, server, tempRoot } from '../helpers.js';
import { type BackgroundStandIns, backgroundStandIns } from './background-stand-ins.js';
import { type FakeBrowserWindow, fakeWindow } from './electron-stand-ins.js';
import { hostBuild } from './host-build.js';
import { dripServer, recordingLogger, waitFor } from './support.js';

const { rendererDir: RENDERER_DIR, preloadPath: PRELOAD } = hostBuild('vm-cache-background-');

const setups: VmCacheSetup[] = [];
afterEach(() => {
  while (setups.length > 0) setups.pop()!.dispose();
});

async function start(
  s: ArtifactServer,
  options: SetupVmCacheOptions = {},
): Promise<{ e: BackgroundStandIns; vm: VmCacheSetup }> {
  const e = backgroundStandIns(await tempRoot());
  const vm = setupVmCacheWith(e.parts, {
    manifestUrl: s.manifestUrl,
    rendererDir: RENDERER_DIR,
    preloadPath: PRELOAD,
    ...options,
  });
  setups.push(vm);
  return { e, vm };
}

/** A host window of its own, registered with the plugin. */
function hostWindow(e: BackgroundStandIns, vm: VmCacheSetup): FakeBrowserWindow {
  const win = new e.parts.BrowserWindow({ title: 'Host app' });
  vm.registerWindow(win);
  return fakeWindow(win);
}

const settingsWindows = (e: BackgroundStandIns) =>
  e.windows.filter((w) => w.loads.some((l) => l.endsWith('/settings.html')));
const downloading = (vm: VmCacheSetup) => vm.controller.currentProgress()?.phase === 'downloading';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the download on the taskbar', () => {
  it('shows on the plugin’s and the host’s windows while it downloads, at most 4 times a second, and is cleared at the end', async () => {
    const { s } = await dripServer(600_000, 300_000);
    const { e, vm } = await start(s);
    const host = hostWindow(e, vm);
    // A host window registered by its webContents (its window is found with BrowserWindow.fromWebContents).
    const second = new e.parts.BrowserWindow({ title: 'Host app, second window' });
    vm.registerWindow(second.webContents);
    const byContents = fakeWindow(second);
    const firstRun = fakeWindow(vm.openFirstRunWindow());
    e.app.becomeReady();
    await waitFor(() => vm.controller.syncing, 5_000, 'the launch sync');
    await vm.controller.sync();

    for (const win of [host, byContents, firstRun]) {
      const calls = win.progressBar;
      const during = calls.slice(0, -1);
      expect(during.length).toBeGreaterThanOrEqual(3);
      expect(during.every((c) => c.mode === 'normal' && c.progress >= 0 && c.progress <= 1)).toBe(true);
      // It moves forward, and reaches the whole.
      expect(during.map((c) => c.progress)).toEqual([...during.map((c) => c.progress)].sort((a, b) => a - b));
      expect(during.at(-1)!.progress).toBeGreaterThan(0.5);
      // About 2 s of progress events (up to 10 a second) became at most one bar per BAR_INTERVAL_MS.
      for (let i = 1; i < during.length; i++)
        expect(during[i]!.at - during[i - 1]!.at).toBeGreaterThanOrEqual(BAR_INTERVAL_MS - 10);
      // Cleared once the images are in place.
      expect(calls.at(-1)).toMatchObject({ progress: -1 });
    }
    expect(await vm.controller.hasCompleteCache()).toBe(true);
  });

  it('a launch that finds the cache current shows no bar and no notification', async () => {
    const { s } = await dripServer(200_000, 2_000_000);
    const first = await start(s, { prefetchOnReady: false });
    first.e.app.becomeReady();
    await first.vm.controller.sync();
    first.vm.dispose();

    const { e, vm } = await start(s, { root: first.vm.controller.root });
    const host = hostWindow(e, vm);
    e.app.becomeReady();
    const result = await vm.controller.sync();
    expect(result.downloaded).toEqual([]);
    await sleep(BAR_INTERVAL_MS + 50);
    expect(host.progressBar).toEqual([]);
    expect(e.notifications).toEqual([]);
  });

  it('a failed download leaves the bar in the error state, and a new sync clears it', async () => {
    const { s, key } = await dripServer(400_000, 400_000);
    // A byte that is wrong in every answer: the sha256 fails, and retrying cannot help.
    s.setFault(key, { dripBytesPerSec: 400_000, corruptByteAt: 350_000 });
    const { e, vm } = await start(s, { prefetchOnReady: false, retries: 0 });
    const host = hostWindow(e, vm);
    e.app.becomeReady();
    await expect(vm.controller.sync()).rejects.toMatchObject({ code: 'ERR_SHA256_MISMATCH' });
    const last = host.progressBar.at(-1)!;
    expect(last.mode).toBe('error');
    expect(last.progress).toBeGreaterThan(0.5);
    expect(host.progressBar.slice(0, -1).some((c) => c.mode === 'normal')).toBe(true);

    s.setFault(key, undefined);
    await vm.controller.sync();
    expect(host.progressBar.at(-1)).toMatchObject({ progress: -1 });
  });

  it('a pause leaves the bar paused where it stopped, with no notification; resuming goes on to a cleared bar', async () => {
    const { s } = await dripServer(900_000, 450_000);
    const { e, vm } = await start(s);
    const host = hostWindow(e, vm);
    e.app.becomeReady();
    await waitFor(() => (vm.controller.currentProgress()?.receivedBytes ?? 0) > 200_000, 5_000, 'some bytes');
    expect(await vm.controller.pause()).toEqual({ paused: true });
    const paused = host.progressBar.at(-1)!;
    expect(paused.mode).toBe('paused');
    expect(paused.progress).toBeGreaterThan(0.2);
    expect(paused.progress).toBeLessThan(1);
    // Asleep while paused: nothing restarts it on waking.
    e.powerMonitor.emit('suspend');
    e.powerMonitor.emit('resume');
    await sleep(200);
    expect(vm.controller.syncing).toBe(false);
    expect(e.notifications).toEqual([]);

    await vm.controller.resume();
    expect(host.progressBar.at(-1)).toMatchObject({ progress: -1 });
    await waitFor(() => e.notifications.length > 0, 2_000, 'the notification');
    expect(e.notifications.map((n) => n.options.title)).toEqual([DEFAULT_DESKTOP_WORDS.readyTitle]);
  });

  it('dispose clears the bar of a download still running', async () => {
    const { s } = await dripServer(2_000_000, 200_000);
    const { e, vm } = await start(s);
    const host = hostWindow(e, vm);
    e.app.becomeReady();
    await waitFor(() => host.progressBar.some((c) => c.progress > 0), 10_000, 'a bar');
    vm.dispose();
    expect(host.progressBar.at(-1)).toMatchObject({ progress: -1 });
  });

  it('taskbarProgress: false leaves the taskbar alone', async () => {
    const { s } = await dripServer(300_000, 1_000_000);
    const { e, vm } = await start(s, { taskbarProgress: false });
    const host = hostWindow(e, vm);
    e.app.becomeReady();
    await waitFor(() => vm.controller.syncing, 5_000, 'the launch sync');
    await vm.controller.sync();
    expect(host.progressBar).toEqual([]);
  });
});

describe('notifications', () => {
  it('says when the images are ready after a download; a click opens the settings page', async () => {
    const { s } = await dripServer(300_000, 1_000_000);
    const { e, vm } = await start(s);
    e.app.becomeReady();
    await waitFor(() => vm.controller.syncing, 5_000, 'the launch sync');
    await vm.controller.sync();
    await waitFor(() => e.notifications.length > 0, 2_000, 'the notification');
    expect(e.notifications.map((n) => n.options)).toEqual([
      { title: DEFAULT_DESKTOP_WORDS.readyTitle, body: DEFAULT_DESKTOP_WORDS.readyBody },
    ]);
    expect(settingsWindows(e)).toEqual([]);
    e.notifications[0]!.click();
    expect(settingsWindows(e)).toHaveLength(1);
  });

  it('says the download needs attention when it fails; a click opens the settings page', async () => {
    const { s, key } = await dripServer(300_000, 1_000_000);
    s.setFault(key, { corruptByteAt: 10 });
    const { e, vm } = await start(s, { prefetchOnReady: false, retries: 0 });
    e.app.becomeReady();
    await expect(vm.controller.sync()).rejects.toMatchObject({ code: 'ERR_SHA256_MISMATCH' });
    await waitFor(() => e.notifications.length > 0, 2_000, 'the notification');
    expect(e.notifications.map((n) => n.options)).toEqual([
      { title: DEFAULT_DESKTOP_WORDS.failedTitle, body: DEFAULT_DESKTOP_WORDS.failedBody },
    ]);
    e.notifications[0]!.click();
    expect(settingsWindows(e)).toHaveLength(1);
    // A second click (or the ready notification) focuses the same settings window.
  });

  it('a failed first run with no images needs attention even before any byte; a failed check with the images in place does not', async () => {
    const { s } = await dripServer(200_000, 2_000_000);
    s.setFault('vm/manifest.json', { status: 404 });
    const { e, vm } = await start(s, { prefetchOnReady: false, retries: 0 });
    e.app.becomeReady();
    await expect(vm.controller.sync()).rejects.toMatchObject({ code: 'ERR_MANIFEST_FETCH' });
    await waitFor(() => e.notifications.length > 0, 2_000, 'the notification');
    expect(e.notifications[0]!.options.title).toBe(DEFAULT_DESKTOP_WORDS.failedTitle);

    s.setFault('vm/manifest.json', undefined);
    await vm.controller.sync();
    expect(e.notifications).toHaveLength(2); // ready
    s.setFault('vm/manifest.json', { status: 404 });
    await expect(vm.controller.sync()).rejects.toMatchObject({ code: 'ERR_MANIFEST_FETCH' });
    await sleep(200);
    expect(e.notifications).toHaveLength(2);
  });

  it('takes the host’s words, and stays quiet while the user watches the first-run window', async () => {
    const { s } = await dripServer(300_000, 1_000_000);
    const { e, vm } = await start(s, {
      prefetchOnReady: false,
      desktopWords: { readyTitle: 'VM-Images sind bereit', failedBody: '' },
    });
    e.app.becomeReady();
    const firstRun = fakeWindow(vm.openFirstRunWindow());
    firstRun.hasFocus = true;
    await vm.controller.sync();
    await sleep(200);
    expect(e.notifications).toEqual([]);

    // The next download, with the window in the background.
    firstRun.hasFocus = false;
    await vm.controller.clear();
    await vm.controller.sync();
    await waitFor(() => e.notifications.length > 0, 2_000, 'the notification');
    expect(e.notifications[0]!.options).toEqual({
      title: 'VM-Images sind bereit',
      body: DEFAULT_DESKTOP_WORDS.readyBody,
    });
  });

  it('shows none where the system has none (Notification.isSupported()), or with notifications: false', async () => {
    const { s } = await dripServer(200_000, 2_000_000);
    const a = await start(s, { prefetchOnReady: false });
    a.e.notificationState.supported = false;
    a.e.app.becomeReady();
    await a.vm.controller.sync();
    const b = await start(s, { prefetchOnReady: false, notifications: false });
    b.e.app.becomeReady();
    await b.vm.controller.sync();
    await sleep(200);
    expect(a.e.notifications).toEqual([]);
    expect(b.e.notifications).toEqual([]);
  });
});

describe('after the machine sleeps', () => {
  it('a download running at suspend is paused while asleep and resumes on waking from the byte it reached, without waiting for the stall timeout', async () => {
    const size = 1_000_000;
    const s = await server({
      artifacts: [{ agent: 'openclaw', version: '2026.4.12', arch: 'x64', sizeBytes: size }],
    });
    const key = keyOf(s);
    // The connection goes dead at 400 kB, as connections do across a sleep: no byte, no close.
    s.setFault(key, { stallAtByte: 400_000, times: 1 });
    const logger = recordingLogger();
    const { e, vm } = await start(s, {
      logger,
      // A stall would be noticed only after a minute: longer than this test may take.
      engine: { stallTimeoutMs: 60_000, connections: 1 },
    });
    e.app.becomeReady();
    const tarball = () => s.requests.filter((r) => r.path === key);
    await waitFor(() => tarball()[0]?.bytesSent === 400_000, 10_000, 'the stall');
    await sleep(100);

    e.powerMonitor.emit('suspend');
    // Asleep, the download reads as paused (not cancelled, not failed), its connection closed.
    await waitFor(
      () => vm.controller.currentProgress()?.paused === true && !vm.controller.syncing,
      5_000,
      'the pause at suspend',
    );
    expect(vm.controller.currentProgress()?.phase).toBe('cancelled');
    // Paused for this run only: nothing on disk would keep a later run from syncing.
    expect(await getPausedVmCacheSync(vm.controller.root)).toBeUndefined();
    e.powerMonitor.emit('resume');
    const woke = Date.now();
    await waitFor(() => !vm.controller.syncing && tarball().length === 2, 10_000, 'the restarted sync');
    expect(Date.now() - woke).toBeLessThan(10_000);
    expect(await vm.controller.hasCompleteCache()).toBe(true);

    // The second request asked for the rest only: the bytes before it were not fetched again.
    const [first, second] = tarball();
    const from = Number(/^bytes=(\d+)-$/.exec(second!.range ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(400_000);
    expect(first!.bytesSent + second!.bytesSent).toBeLessThan(size * 1.1);
    expect(s.bytesServed(key)).toBe(first!.bytesSent + second!.bytesSent);
    expect(logger.lines.some((l) => l.text.includes('woke up during a sync'))).toBe(true);
    // The restart is no failure: one 'ready' notification, and the bar ends cleared.
    await waitFor(() => e.notifications.length > 0, 2_000, 'the notification');
    expect(e.notifications.map((n) => n.options.title)).toEqual([DEFAULT_DESKTOP_WORDS.readyTitle]);
  });

  it('starts nothing on resume when no sync ran at suspend, and leaves a sync that started after suspend alone', async () => {
    const { s, key } = await dripServer(600_000, 600_000);
    const { e, vm } = await start(s, { prefetchOnReady: false });
    e.app.becomeReady();
    await sleep(10);
    e.powerMonitor.emit('suspend');
    e.powerMonitor.emit('resume');
    await sleep(100);
    expect(vm.controller.syncing).toBe(false);
    expect(s.requests).toEqual([]);

    e.powerMonitor.emit('suspend');
    const syncing = vm.controller.sync();
    await waitFor(() => downloading(vm), 5_000, 'the download');
    e.powerMonitor.emit('resume');
    await syncing;
    expect(s.requests.filter((r) => r.path === key)).toHaveLength(1);
  });

  it('resumeAfterSleep: false leaves a sync to its stall timeout', async () => {
    const { s } = await dripServer(2_000_000, 200_000);
    const { e, vm } = await start(s, { resumeAfterSleep: false });
    e.app.becomeReady();
    await waitFor(() => downloading(vm), 5_000, 'the download');
    e.powerMonitor.emit('suspend');
    e.powerMonitor.emit('resume');
    await sleep(200);
    expect(s.requests.filter((r) => r.range !== undefined)).toEqual([]);
    expect(e.powerMonitor.listenerCount('resume')).toBe(0);
  });
});

describe('closing the first-run window during the download', () => {
  it('closes it; the download goes on to the end, and a notification says so once per run', async () => {
    const { s } = await dripServer(900_000, 450_000);
    const { e, vm } = await start(s);
    e.app.becomeReady();
    const firstRun = fakeWindow(vm.openFirstRunWindow());
    await waitFor(() => downloading(vm), 5_000, 'the download');

    firstRun.close();
    expect(firstRun.isDestroyed()).toBe(true);
    expect(vm.controller.syncing).toBe(true);
    await waitFor(() => e.notifications.length > 0, NOTICE_DELAY_MS + 1_000, 'the notice');
    expect(e.notifications[0]!.options).toEqual({
      title: DEFAULT_DESKTOP_WORDS.backgroundTitle,
      body: DEFAULT_DESKTOP_WORDS.backgroundBody,
    });
    // Opened and closed again: no second notice.
    fakeWindow(vm.openFirstRunWindow()).close();
    await sleep(NOTICE_DELAY_MS + 100);
    expect(e.notifications).toHaveLength(1);

    await vm.controller.sync();
    expect(await vm.controller.hasCompleteCache()).toBe(true);
    await waitFor(() => e.notifications.length === 2, 2_000, 'the ready notification');
    expect(e.notifications[1]!.options.title).toBe(DEFAULT_DESKTOP_WORDS.readyTitle);
    // Clicking the notice opens settings, where the download shows.
    e.notifications[0]!.click();
    expect(settingsWindows(e)).toHaveLength(1);
  });

  it('says nothing when the window closes because the app quits, or when nothing downloads', async () => {
    const { s } = await dripServer(900_000, 450_000);
    const { e, vm } = await start(s);
    e.app.becomeReady();
    await waitFor(() => downloading(vm), 5_000, 'the download');
    e.app.emit('before-quit', { preventDefault() {} });
    fakeWindow(vm.openFirstRunWindow()).close();
    await sleep(NOTICE_DELAY_MS + 100);
    expect(e.notifications).toEqual([]);

    const idle = await start(s, { prefetchOnReady: false });
    idle.e.app.becomeReady();
    const win = fakeWindow(idle.vm.openFirstRunWindow());
    win.close();
    expect(win.isDestroyed()).toBe(true);
    await sleep(NOTICE_DELAY_MS + 100);
    expect(idle.e.notifications).toEqual([]);
  });

  it("firstRunClose: 'ask' asks on the window; continuing closes it and the download completes", async () => {
    const { s } = await dripServer(900_000, 450_000);
    const { e, vm } = await start(s, { firstRunClose: 'ask' });
    e.app.becomeReady();
    const firstRun = fakeWindow(vm.openFirstRunWindow());
    await waitFor(() => downloading(vm), 5_000, 'the download');

    firstRun.close();
    firstRun.close(); // impatient: still one question
    expect(firstRun.isDestroyed()).toBe(false);
    expect(e.dialog.asked).toHaveLength(1);
    const question = e.dialog.asked[0]!;
    expect(question.window).toBe(firstRun);
    expect(question.options).toMatchObject({
      message: DEFAULT_DESKTOP_WORDS.askMessage,
      buttons: [DEFAULT_DESKTOP_WORDS.continueButton, DEFAULT_DESKTOP_WORDS.stopButton],
      cancelId: 0,
    });
    question.answer(0);
    await waitFor(() => firstRun.isDestroyed(), 2_000, 'the window to close');
    expect(vm.controller.syncing).toBe(true);
    await vm.controller.sync();
    expect(await vm.controller.hasCompleteCache()).toBe(true);
    // The user chose it: no 'continues in the background' notice on top, only the ready one.
    await waitFor(() => e.notifications.length > 0, 2_000, 'the ready notification');
    expect(e.notifications.map((n) => n.options.title)).toEqual([DEFAULT_DESKTOP_WORDS.readyTitle]);
  });

  it("firstRunClose: 'ask': stopping cancels the download (its bytes kept) and closes the window", async () => {
    const { s, key } = await dripServer(900_000, 450_000);
    const { e, vm } = await start(s, { firstRunClose: 'ask', desktopWords: { stopButton: 'Anhalten' } });
    e.app.becomeReady();
    const firstRun = fakeWindow(vm.openFirstRunWindow());
    await waitFor(() => (vm.controller.currentProgress()?.receivedBytes ?? 0) > 100_000, 5_000, 'some bytes');
    firstRun.close();
    expect(e.dialog.asked[0]!.options.buttons).toEqual([DEFAULT_DESKTOP_WORDS.continueButton, 'Anhalten']);
    e.dialog.asked[0]!.answer(1);
    await waitFor(() => firstRun.isDestroyed(), 2_000, 'the window to close');
    expect(vm.controller.syncing).toBe(false);
    expect(await vm.controller.hasCompleteCache()).toBe(false);
    // The next sync goes on from what the stopped one kept.
    await vm.controller.sync();
    expect(s.requests.filter((r) => r.path === key).at(-1)!.range).toMatch(/^bytes=[1-9]\d*-$/);
  });

  it("firstRunClose: 'ask' asks nothing when the app quits", async () => {
    const { s } = await dripServer(900_000, 450_000);
    const { e, vm } = await start(s, { firstRunClose: 'ask' });
    e.app.becomeReady();
    const firstRun = fakeWindow(vm.openFirstRunWindow());
    await waitFor(() => downloading(vm), 5_000, 'the download');
    e.app.emit('before-quit', { preventDefault() {} });
    firstRun.close();
    expect(firstRun.isDestroyed()).toBe(true);
    expect(e.dialog.asked).toEqual([]);
  });

  it('refuses an unknown firstRunClose at setup', async () => {
    const { s } = await dripServer(100_000, 1_000_000);
    await expect(
      start(s, { firstRunClose: 'quit' as unknown as 'ask', prefetchOnReady: false }),
    ).rejects.toThrow(/firstRunClose is 'continue' or 'ask'/);
  });
});
