// The public entry setupVmCache() as a host app calls it (with `electron` and
// electron-log replaced by stand-ins), and the whole path page -> preload ->
// ipcMain -> hub -> controller -> engine -> artifact server and back.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { SyncProgress } from '../../contract/progress.js';
import type { VmCacheSetup } from '../../main/electron/index.js';
import { createVmCacheApi } from '../../preload/api.js';
import { oneArtifactServer, tempRoot } from '../helpers.js';
import { fakeIpcRenderer, fakeWindow, type StandIns } from './electron-stand-ins.js';
import { recordingLogger, waitFor } from './support.js';

const fakes = vi.hoisted(() => ({
  standIns: undefined as StandIns | undefined,
  logLines: [] as string[],
  logIds: [] as string[],
  fileName: '',
}));

vi.mock('electron', async () => {
  const { electronStandIns } = await import('./electron-stand-ins.js');
  fakes.standIns = electronStandIns(mkdtempSync(path.join(os.tmpdir(), 'vm-cache-userdata-')));
  const { app, ipcMain, BrowserWindow, net, protocol, session, Menu } = fakes.standIns.parts;
  return { app, ipcMain, BrowserWindow, net, protocol, session, Menu };
});

vi.mock('electron-log/main', () => {
  const line =
    (level: string) =>
    (...args: unknown[]) =>
      fakes.logLines.push(`${level} ${args.join(' ')}`);
  const file = {
    set fileName(name: string) {
      fakes.fileName = name;
    },
    getFile: () => ({ path: `/home/u/.config/app/logs/${fakes.fileName}` }),
  };
  const create = ({ logId }: { logId: string }) => {
    fakes.logIds.push(logId);
    return { info: line('info'), warn: line('warn'), error: line('error'), transports: { file } };
  };
  return { default: { create } };
});

const setups: VmCacheSetup[] = [];
afterEach(() => {
  while (setups.length > 0) setups.pop()!.dispose();
});

afterAll(() => {
  const userData = fakes.standIns?.app.getPath('userData');
  if (userData) rmSync(userData, { recursive: true, force: true });
});

describe('setupVmCache (the real entry, Electron and electron-log stood in)', () => {
  it('logs through its own electron-log instance and shows that file in the status', async () => {
    const { setupVmCache } = await import('../../main/electron/index.js');
    const s = await oneArtifactServer();
    const vm = setupVmCache({ manifestUrl: s.manifestUrl, prefetchOnReady: false });
    setups.push(vm);
    expect(fakes.logIds).toEqual(['vm-cache']);
    expect(fakes.fileName).toBe('vm-cache.log');
    const status = await vm.controller.getStatus();
    expect(status.logPath).toBe('/home/u/.config/app/logs/vm-cache.log');
    expect(status.root).toBe(path.join(fakes.standIns!.app.getPath('userData'), 'vm-cache'));
    fakes.standIns!.app.becomeReady();
    await vm.controller.sync();
    expect(fakes.logLines.some((l) => l.startsWith('info sync done'))).toBe(true);
    // Downloads went through net.fetch.
    expect(fakes.standIns!.fetchCalls[0]).toBe(s.manifestUrl);
  });

  it('page -> preload -> ipcMain -> hub -> engine: calls answer, progress arrives as payloads, ending in done', async () => {
    const { setupVmCache } = await import('../../main/electron/index.js');
    const s = await oneArtifactServer(400_000);
    const key = Object.values(s.manifest.agents as Record<string, { tarballs: { x64: { key: string } } }>)[0]!
      .tarballs.x64.key;
    s.setFault(key, { dripBytesPerSec: 400_000 });
    const e = fakes.standIns!;
    const vm = setupVmCache({
      root: await tempRoot(),
      manifestUrl: s.manifestUrl,
      prefetchOnReady: false,
      logger: recordingLogger(),
    });
    setups.push(vm);
    const win = fakeWindow(vm.openFirstRunWindow());
    const api = createVmCacheApi(fakeIpcRenderer(e.ipcMain, win.webContents));

    const status = await api.getStatus();
    expect(status).toMatchObject({ ok: true, value: { cached: null, progress: null } });

    const seen: unknown[][] = [];
    const off = api.onProgress((...args: unknown[]) => seen.push(args));
    await waitFor(() => vm.hub.subscribers.length === 1, 2_000, 'the subscription');
    const result = await api.sync();
    expect(result).toMatchObject({ ok: true, value: { downloaded: [key], skipped: false } });
    // The throttle's trailing edge delivers the final state shortly after the sync resolves.
    await waitFor(
      () => (seen.at(-1)?.[0] as SyncProgress | undefined)?.phase === 'done',
      5_000,
      "the final 'done'",
    );
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.every((args) => args.length === 1)).toBe(true);
    const phases = seen.map((args) => (args[0] as SyncProgress).phase);
    expect(phases[0]).toBe('checking');
    expect(phases.at(-1)).toBe('done');

    expect(await api.verify()).toEqual({ ok: true, value: { ok: true, entries: [{ key, state: 'ok' }] } });
    expect(await api.cancel()).toEqual({ ok: true, value: { cancelled: false } });
    off();
    await waitFor(() => vm.hub.subscribers.length === 0, 2_000, 'the unsubscribe');
    const cleared = await api.clear();
    expect(cleared).toMatchObject({ ok: true, value: { removedBytes: expect.any(Number) } });
  });

  it('the download speed limit, page -> preload -> ipcMain -> hub -> controller; garbage stops at the hub', async () => {
    const { setupVmCache } = await import('../../main/electron/index.js');
    const s = await oneArtifactServer();
    const e = fakes.standIns!;
    const vm = setupVmCache({
      root: await tempRoot(),
      manifestUrl: s.manifestUrl,
      prefetchOnReady: false,
      limitRate: 8 << 20,
      logger: recordingLogger(),
    });
    setups.push(vm);
    const win = fakeWindow(vm.openSettingsWindow());
    const ipc = fakeIpcRenderer(e.ipcMain, win.webContents);
    const api = createVmCacheApi(ipc);

    // The host's limitRate option is what the page reads.
    expect(await api.getLimitRate()).toEqual({ ok: true, value: { bytesPerSecond: 8 << 20 } });
    expect(await api.setLimitRate(5_000_000)).toEqual({ ok: true, value: { bytesPerSecond: 5_000_000 } });
    expect(vm.controller.limitRate).toBe(5_000_000);
    expect(await api.getLimitRate()).toEqual({ ok: true, value: { bytesPerSecond: 5_000_000 } });

    // What a page could send on the channel itself, past the preload's client.
    const channel = 'vm-cache:set-limit-rate';
    for (const args of [[Number.NaN], [-1], [1000], ['24M'], [{}], [], [2048, 2048]]) {
      expect(await ipc.invoke(channel, ...args), JSON.stringify(args)).toMatchObject({
        ok: false,
        code: 'ERR_INVALID_REQUEST',
      });
    }
    expect(vm.controller.limitRate).toBe(5_000_000);

    expect(await api.setLimitRate(null)).toEqual({ ok: true, value: { bytesPerSecond: null } });
    expect(vm.controller.limitRate).toBeUndefined();
  });
});
