// The demo app's wiring up to the Electron boundary: which window opens on
// first run and on later runs, the hand-over from the first-run screen to the
// host's window, the menu, and where it syncs from.
import { describe, expect, it } from 'vitest';
import { type DemoApp, demoManifestSource, placeholderPage, startDemoApp } from '../../demo/app.js';
import { INVOKE_CHANNELS } from '../../main/electron/ipc.js';
import { VmCacheController } from '../../main/service/controller.js';
import { oneArtifactServer, tempRoot } from '../helpers.js';
import { electronStandIns, type StandIns } from '../main/electron-stand-ins.js';
import { recordingLogger, waitFor } from '../main/support.js';

interface MenuItem {
  label?: string;
  role?: string;
  submenu?: MenuItem[];
  click?: () => void;
}

async function launch(manifestUrl: string, root: string): Promise<{ e: StandIns; demo: DemoApp }> {
  const e = electronStandIns(await tempRoot());
  e.app.becomeReady();
  const demo = await startDemoApp(e.parts, {
    logger: recordingLogger(),
    logPath: '/logs/vm-cache.log',
    env: { VM_CACHE_MANIFEST_URL: manifestUrl, VM_CACHE_ROOT: root },
  });
  return { e, demo };
}

/** What each window shows: a page's file name, or 'placeholder' for the host's data: page. */
const pages = (e: StandIns) =>
  e.windows.map((w) => (w.loads[0]?.startsWith('url data:') ? 'placeholder' : w.loads[0]?.split('/').at(-1)));
function menuItem(e: StandIns, label: string): MenuItem {
  const template = (e.menus[0] as { template: MenuItem[] }).template;
  const all = template.flatMap((m) => [m, ...(m.submenu ?? [])]);
  const item = all.find((m) => m.label === label);
  if (!item) throw new Error(`no menu item ${label}`);
  return item;
}

describe('demo app', () => {
  it('first run: syncs from VM_CACHE_MANIFEST_URL into VM_CACHE_ROOT and shows the first-run window', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    const { e, demo } = await launch(s.manifestUrl, root);
    expect(demo.root).toBe(root);
    expect(demo.source).toMatchObject({ manifestUrl: s.manifestUrl, local: false });
    expect(pages(e)).toEqual(['first-run.html']);
    expect(e.ipcMain.handlers.size).toBe(INVOKE_CHANNELS.length);
    // The launch sync is running (or done) without anyone asking.
    await demo.vmCache.controller.sync();
    expect(await demo.vmCache.controller.hasCompleteCache()).toBe(true);
    expect((await demo.vmCache.controller.getStatus()).logPath).toBe('/logs/vm-cache.log');
    e.app.emit('will-quit');
  });

  it('closing the first-run window once the cache is complete opens the host’s window instead of quitting', async () => {
    const s = await oneArtifactServer();
    const { e, demo } = await launch(s.manifestUrl, await tempRoot());
    await demo.vmCache.controller.sync();
    const firstRun = e.windows[0]!;
    firstRun.close();
    e.app.emit('window-all-closed');
    await waitFor(() => e.windows.length === 2, 5_000, 'the main window');
    expect(e.app.quitCalls).toEqual([]);
    const main = e.windows[1]!;
    expect(main.loads[0]).toMatch(/^url data:text\/html;charset=utf-8,/);
    expect(main.options.webPreferences).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
    });
    expect(main.options.webPreferences?.preload).toBeUndefined();
    e.app.emit('will-quit');
  });

  it('closing the first-run window before the cache is complete quits the app', async () => {
    const s = await oneArtifactServer(400_000);
    const key = Object.values(s.manifest.agents as Record<string, { tarballs: { x64: { key: string } } }>)[0]!
      .tarballs.x64.key;
    s.setFault(key, { dripBytesPerSec: 100_000 });
    const { e } = await launch(s.manifestUrl, await tempRoot());
    e.windows[0]!.close();
    e.app.emit('window-all-closed');
    await waitFor(() => e.app.quitCalls.length > 0, 5_000, 'quit');
    expect(e.windows).toHaveLength(1);
    e.app.emit('will-quit');
  });

  it('a later run with a complete cache opens the host’s window directly', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    await new VmCacheController({ root, manifestUrl: s.manifestUrl }).sync();
    const { e } = await launch(s.manifestUrl, root);
    expect(e.windows).toHaveLength(1);
    expect(e.windows[0]!.loads[0]).toMatch(/^url data:text\/html/);
    e.app.emit('will-quit');
  });

  it('the menu reaches settings, the first-run screen and the app window', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    await new VmCacheController({ root, manifestUrl: s.manifestUrl }).sync();
    const { e } = await launch(s.manifestUrl, root);
    menuItem(e, 'Settings…').click!();
    menuItem(e, 'Download Progress').click!();
    menuItem(e, 'Open App Window').click!();
    expect(pages(e)).toEqual(['placeholder', 'settings.html', 'first-run.html']);
    // Settings twice is still one window.
    menuItem(e, 'Settings…').click!();
    expect(e.windows).toHaveLength(3);
    e.app.emit('will-quit');
  });

  it('will-quit removes the IPC handlers and stops the subscriptions', async () => {
    const s = await oneArtifactServer();
    const { e, demo } = await launch(s.manifestUrl, await tempRoot());
    await demo.vmCache.controller.sync();
    e.app.emit('will-quit');
    expect(e.ipcMain.handlers.size).toBe(0);
    expect(demo.vmCache.hub.subscribers).toEqual([]);
  });

  it('with no VM_CACHE_MANIFEST_URL it serves the demo artifacts from a local server', async () => {
    const source = await demoManifestSource({});
    try {
      expect(source.local).toBe(true);
      expect(source.manifestUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/vm\/manifest\.json$/);
      const doc = (await (await fetch(source.manifestUrl)).json()) as { agents: Record<string, unknown> };
      expect(Object.keys(doc.agents).sort()).toEqual(['hermes', 'openclaw']);
    } finally {
      await source.close();
    }
  });

  it('the placeholder page escapes the root and allows no script', () => {
    const html = decodeURIComponent(
      placeholderPage('/tmp/<script>alert(1)</script>').split(',').slice(1).join(','),
    );
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#60;script&#62;');
    expect(html).toContain("default-src 'none'");
  });
});
