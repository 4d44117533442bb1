// setupVmCache's wiring with stand-ins for Electron's own objects only: the
// controller, hub, engine and artifact server are real.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { INVOKE, PROGRESS_CHANNEL } from '../../contract/api.js';
import { CONTENT_SECURITY_POLICY, contentSecurityPolicy } from '../../contract/csp.js';
import { INVOKE_CHANNELS, senderInfoOf } from '../../main/electron/ipc.js';
import { setupVmCacheWith, type VmCacheSetup } from '../../main/electron/setup.js';
import { SECURE_WEB_PREFERENCES } from '../../main/electron/windows.js';
import { oneArtifactServer, tempRoot } from '../helpers.js';
import {
  asBrowserWindow,
  beforeRequest,
  electronStandIns,
  FakeBrowserWindow,
  FakeFrame,
  FakeWebContents,
  fakeWindow,
  headersReceived,
  invokeEvent,
} from './electron-stand-ins.js';
import { hostBuild } from './host-build.js';
import { recordingLogger, waitFor } from './support.js';

// A host's own build of the files (setup checks that they exist).
const { rendererDir: RENDERER_DIR, preloadPath: PRELOAD } = hostBuild('vm-cache-host-out-');
// Setup runs before the app is ready (as a host's main file calls it), so the pages load from the plugin's scheme.
const pageUrl = (name: string) => `vm-cache://pages/${name}`;
const fileUrl = (name: string) => pathToFileURL(path.join(RENDERER_DIR, name)).href;

const setups: VmCacheSetup[] = [];
afterEach(() => {
  while (setups.length > 0) setups.pop()!.dispose();
});

async function start(options: Parameters<typeof setupVmCacheWith>[1] = {}) {
  const s = await oneArtifactServer();
  const userData = await tempRoot();
  const e = electronStandIns(userData);
  const vm = setupVmCacheWith(e.parts, {
    manifestUrl: s.manifestUrl,
    rendererDir: RENDERER_DIR,
    preloadPath: PRELOAD,
    ...options,
  });
  setups.push(vm);
  return { s, e, vm, userData };
}

describe('setupVmCache (Electron stand-ins)', () => {
  it('registers every INVOKE channel, removeHandler right before each handle', async () => {
    const { e } = await start({ prefetchOnReady: false });
    expect([...INVOKE_CHANNELS].sort()).toEqual(
      Object.values(INVOKE)
        .map((x) => x.channel)
        .sort(),
    );
    expect(e.ipcMain.calls).toEqual(INVOKE_CHANNELS.flatMap((c) => [`removeHandler ${c}`, `handle ${c}`]));
    expect([...e.ipcMain.handlers.keys()].sort()).toEqual([...INVOKE_CHANNELS].sort());
  });

  it('a second setup (a dev reload) replaces the handlers instead of throwing', async () => {
    const { e, s } = await start({ prefetchOnReady: false });
    expect(() =>
      setups.push(setupVmCacheWith(e.parts, { manifestUrl: s.manifestUrl, prefetchOnReady: false })),
    ).not.toThrow();
    expect(e.ipcMain.handlers.size).toBe(INVOKE_CHANNELS.length);
  });

  it('dispose removes every handler', async () => {
    const { e, vm } = await start({ prefetchOnReady: false });
    vm.dispose();
    expect(e.ipcMain.handlers.size).toBe(0);
  });

  it('starts the prefetch on whenReady, through net.request, without making setup wait', async () => {
    const { e, vm, s, userData } = await start();
    // setup returned synchronously; nothing has gone out before Electron is ready.
    expect(e.app.whenReadyCalls).toBe(1);
    // A few turns of the event loop: the prefetch waits on whenReady, not on time.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(e.fetchCalls).toEqual([]);
    expect(vm.controller.syncing).toBe(false);
    e.app.becomeReady();
    await waitFor(() => vm.controller.syncing, 5_000, 'the prefetch');
    expect(e.fetchCalls[0]).toBe(s.manifestUrl);
    await vm.controller.sync();
    expect(await vm.controller.hasCompleteCache()).toBe(true);
    expect(vm.controller.root).toBe(path.join(userData, 'vm-cache'));
    expect(e.fetchCalls.every((u) => u.startsWith(s.url))).toBe(true);
  });

  it('passes the log path and the logger through to the status and the log', async () => {
    const logger = recordingLogger();
    const { e, vm } = await start({ logger, logPath: '/logs/vm-cache.log' });
    e.app.becomeReady();
    await waitFor(() => vm.controller.syncing, 5_000, 'the prefetch');
    await vm.controller.sync();
    expect((await vm.controller.getStatus()).logPath).toBe('/logs/vm-cache.log');
    expect(logger.lines.some((l) => l.text.startsWith('sync done'))).toBe(true);
  });

  it('opens windows with the secure webPreferences, the preload, and the plugin’s own session', async () => {
    const { e, vm } = await start({ prefetchOnReady: false });
    const win = fakeWindow(vm.openFirstRunWindow());
    const prefs = win.options.webPreferences!;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      allowRunningInsecureContent: false,
      preload: PRELOAD,
    });
    expect(prefs).toMatchObject(SECURE_WEB_PREFERENCES);
    expect(prefs.session).toBe(e.session);
    expect(e.partitions).toEqual(['vm-cache']);
    expect(win.options.show).toBe(false);
    expect(win.loads).toEqual([`url ${pageUrl('first-run.html')}`]);
    win.emit('ready-to-show');
    expect(win.shown).toBe(true);

    const settings = fakeWindow(vm.openSettingsWindow());
    expect(settings.loads).toEqual([`url ${pageUrl('settings.html')}`]);
    expect(settings.options.webPreferences).toMatchObject(SECURE_WEB_PREFERENCES);
    // The session is set up once, for every window.
    expect(e.partitions).toEqual(['vm-cache']);
  });

  it('reopening a window focuses the existing one; after it closes a new one is made', async () => {
    const { vm } = await start({ prefetchOnReady: false });
    const a = fakeWindow(vm.openSettingsWindow());
    expect(vm.openSettingsWindow()).toBe(a);
    expect(a.focused).toBe(1);
    a.close();
    const b = fakeWindow(vm.openSettingsWindow());
    expect(b).not.toBe(a);
  });

  it('denies navigation, popups and <webview> in its windows', async () => {
    const { vm } = await start({ prefetchOnReady: false });
    const win = fakeWindow(vm.openFirstRunWindow());
    const wc = win.webContents;
    expect(wc.emitPreventable('will-navigate', 'https://evil.example/')).toBe(true);
    expect(wc.emitPreventable('will-attach-webview', {}, {})).toBe(true);
    const popup = wc.windowOpenHandler?.({
      url: 'https://evil.example/',
      frameName: '',
      features: '',
      disposition: 'new-window',
      referrer: { url: '', policy: 'default' },
    });
    expect(popup).toEqual({ action: 'deny' });
  });

  it('sets a strict CSP header, blocks remote requests and denies permissions in its session', async () => {
    const { e, vm } = await start({ prefetchOnReady: false });
    const win = vm.openFirstRunWindow();
    let headers: unknown;
    e.session.headersListener!(
      headersReceived(pageUrl('first-run.html'), {
        'content-security-policy': ["default-src *; script-src * 'unsafe-eval'"],
        'X-Other': ['1'],
      }),
      (response) => {
        headers = response.responseHeaders;
      },
    );
    expect(headers).toEqual({ 'X-Other': ['1'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );

    const cancelled = (url: string) => {
      let answer: unknown;
      e.session.beforeRequestListener!(beforeRequest(url), (r) => {
        answer = r.cancel;
      });
      return answer;
    };
    expect(cancelled(pageUrl('first-run.html'))).toBe(false);
    expect(cancelled(pageUrl('assets/main-abc.js'))).toBe(false);
    expect(cancelled('https://cdn.example/script.js')).toBe(true);
    expect(cancelled('http://127.0.0.1:8080/')).toBe(true);
    expect(cancelled('file:///etc/passwd')).toBe(true);
    // Served from the scheme, the pages need no file:// at all, not even their own folder.
    expect(cancelled(fileUrl('first-run.html'))).toBe(true);
    expect(cancelled('vm-cache://elsewhere/first-run.html')).toBe(true);

    let granted: unknown;
    const request = { isMainFrame: true, requestingUrl: pageUrl('first-run.html') };
    e.session.permissionRequestHandler!(
      win.webContents,
      'media',
      (ok) => {
        granted = ok;
      },
      request,
    );
    expect(granted).toBe(false);
    expect(
      e.session.permissionCheckHandler!(win.webContents, 'notifications', 'vm-cache://pages', request),
    ).toBe(false);
    expect(e.session.listenerCount('will-download')).toBe(1);
  });

  it('in dev (electron-vite’s server) pages load from it and the CSP lets Vite’s socket through', async () => {
    const { e, vm } = await start({ prefetchOnReady: false, devServerUrl: 'http://localhost:5173' });
    const win = fakeWindow(vm.openSettingsWindow());
    expect(win.loads).toEqual(['url http://localhost:5173/settings.html']);
    expect(contentSecurityPolicy('http://localhost:5173')).toContain(
      "connect-src 'self' ws://localhost:5173",
    );
    let headers: Record<string, string | string[]> = {};
    e.session.headersListener!(headersReceived('http://localhost:5173/settings.html', {}), (r) => {
      headers = r.responseHeaders ?? {};
    });
    expect(headers['Content-Security-Policy']).toEqual([contentSecurityPolicy('http://localhost:5173')]);
    // Its pages may call; a stranger origin may not.
    win.webContents.mainFrame.url = 'http://localhost:5173/settings.html';
    expect(await e.ipcMain.invoke(win.webContents, INVOKE.getStatus.channel)).toMatchObject({ ok: true });
    win.webContents.mainFrame.url = 'http://localhost:5174/settings.html';
    expect(await e.ipcMain.invoke(win.webContents, INVOKE.getStatus.channel)).toMatchObject({
      code: 'ERR_FORBIDDEN_SENDER',
    });
  });

  it('maps the IPC event to SenderInfo: sender id, the frame’s URL, main frame by identity', () => {
    const wc = new FakeWebContents();
    wc.mainFrame.url = 'file:///x/first-run.html';
    const asEvent = (frame: FakeFrame | null) => invokeEvent(wc, frame);
    expect(senderInfoOf(asEvent(wc.mainFrame))).toEqual({
      id: wc.id,
      url: 'file:///x/first-run.html',
      isMainFrame: true,
    });
    const sub = new FakeFrame('file:///x/first-run.html');
    expect(senderInfoOf(asEvent(sub))).toEqual({
      id: wc.id,
      url: 'file:///x/first-run.html',
      isMainFrame: false,
    });
    expect(senderInfoOf(asEvent(null))).toEqual({ id: wc.id, url: '', isMainFrame: false });
  });

  it('answers its own windows’ main frame; refuses subframes, gone frames, and unknown windows', async () => {
    const { e, vm } = await start({ prefetchOnReady: false });
    const win = fakeWindow(vm.openFirstRunWindow());
    const wc = win.webContents;
    expect(wc.mainFrame.url).toBe(pageUrl('first-run.html'));
    expect(await e.ipcMain.invoke(wc, INVOKE.getStatus.channel)).toMatchObject({ ok: true });

    const sub = new FakeFrame(pageUrl('first-run.html'));
    expect(await e.ipcMain.invoke(wc, INVOKE.getStatus.channel, [], sub)).toMatchObject({
      code: 'ERR_FORBIDDEN_SENDER',
    });
    expect(await e.ipcMain.invoke(wc, INVOKE.getStatus.channel, [], null)).toMatchObject({
      code: 'ERR_FORBIDDEN_SENDER',
    });
    // A window the plugin did not open, even showing the same page.
    const stranger = new FakeWebContents();
    stranger.mainFrame.url = pageUrl('first-run.html');
    expect(await e.ipcMain.invoke(stranger, INVOKE.getStatus.channel)).toMatchObject({
      code: 'ERR_FORBIDDEN_SENDER',
    });
    // Garbage through the real handler: arguments are checked too.
    expect(await e.ipcMain.invoke(wc, INVOKE.clear.channel, ['everything'])).toMatchObject({
      code: 'ERR_INVALID_REQUEST',
    });
  });

  it('a host window registered with registerWindow may use the API from an allowed origin', async () => {
    const { e, vm } = await start({ prefetchOnReady: false, allowedOrigins: ['app://host'] });
    const host = new FakeBrowserWindow({});
    host.webContents.mainFrame.url = 'app://host/index.html';
    expect(await e.ipcMain.invoke(host.webContents, INVOKE.getStatus.channel)).toMatchObject({
      code: 'ERR_FORBIDDEN_SENDER',
    });
    vm.registerWindow(asBrowserWindow(host));
    expect(await e.ipcMain.invoke(host.webContents, INVOKE.getStatus.channel)).toMatchObject({ ok: true });
    host.webContents.mainFrame.url = 'https://evil.example/';
    expect(await e.ipcMain.invoke(host.webContents, INVOKE.getStatus.channel)).toMatchObject({
      code: 'ERR_FORBIDDEN_SENDER',
    });
  });

  it('drops a window’s subscription when its main frame navigates or it closes, not on in-page changes', async () => {
    const { e, vm } = await start({ prefetchOnReady: false });
    const win = fakeWindow(vm.openFirstRunWindow());
    const wc = win.webContents;
    const subscribe = () => e.ipcMain.invoke(wc, INVOKE.subscribe.channel);
    expect(await subscribe()).toEqual({ ok: true, value: { subscribed: true } });
    expect(vm.hub.subscribers).toEqual([wc.id]);

    wc.navigate(`${pageUrl('first-run.html')}#step2`, { isSameDocument: true });
    wc.navigate('https://ads.example/frame', { isMainFrame: false });
    expect(vm.hub.subscribers).toEqual([wc.id]);

    wc.navigate(pageUrl('first-run.html'));
    expect(vm.hub.subscribers).toEqual([]);

    expect(await subscribe()).toMatchObject({ ok: true });
    win.close();
    expect(vm.hub.subscribers).toEqual([]);
    // A closed window's id is no longer allowed.
    expect(await e.ipcMain.invoke(wc, INVOKE.getStatus.channel)).toMatchObject({
      code: 'ERR_FORBIDDEN_SENDER',
    });
  });

  it('pushes progress to a subscribed window over its webContents, ending with done', async () => {
    const { e, vm } = await start({ prefetchOnReady: false });
    e.app.becomeReady();
    const win = fakeWindow(vm.openFirstRunWindow());
    await e.ipcMain.invoke(win.webContents, INVOKE.subscribe.channel);
    expect(await e.ipcMain.invoke(win.webContents, INVOKE.sync.channel)).toMatchObject({ ok: true });
    const sent = win.webContents.sent;
    await waitFor(
      () => (sent.at(-1)?.payload as { phase?: string } | undefined)?.phase === 'done',
      5_000,
      "the final 'done'",
    );
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((m) => m.channel === PROGRESS_CHANNEL)).toBe(true);
    expect((sent.at(-1)!.payload as { phase: string }).phase).toBe('done');
  });
});

describe('downloads through net.request, every redirect hop judged by the engine', () => {
  it('a redirect chain is followed hop by hop; a cleartext hop to another host is refused before it is requested', async () => {
    const s = await oneArtifactServer();
    const e = electronStandIns(await tempRoot());
    const manifestUrl = `${s.url}/moved/vm/manifest.json`;
    // A same-origin 301 in front of the real manifest: followed through the engine.
    const moved = http.createServer((req, res) => {
      res.writeHead(301, { location: `${s.url}${req.url!.replace('/moved', '')}` }).end();
    });
    moved.listen(0, '127.0.0.1');
    await once(moved, 'listening');
    const front = `http://127.0.0.1:${(moved.address() as AddressInfo).port}`;
    try {
      const vm = setupVmCacheWith(e.parts, {
        prefetchOnReady: false,
        manifestUrl: manifestUrl.replace(s.url, front),
        rendererDir: RENDERER_DIR,
        preloadPath: PRELOAD,
      });
      setups.push(vm);
      await vm.controller.sync();
      expect(await vm.controller.hasCompleteCache()).toBe(true);
      // Each hop was its own request: the engine saw, judged and asked for it.
      expect(e.fetchCalls.slice(0, 2)).toEqual([
        manifestUrl.replace(s.url, front),
        `${s.url}/vm/manifest.json`,
      ]);

      // A hop to 0.0.0.0 (reaches this machine, yet is not loopback by the rule) in cleartext.
      const evil = http.createServer((req, res) => {
        res.writeHead(302, { location: `${front.replace('127.0.0.1', '0.0.0.0')}${req.url}` }).end();
      });
      evil.listen(0, '127.0.0.1');
      await once(evil, 'listening');
      const start = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/vm/manifest.json`;
      const e2 = electronStandIns(await tempRoot());
      const vm2 = setupVmCacheWith(e2.parts, {
        prefetchOnReady: false,
        manifestUrl: start,
        rendererDir: RENDERER_DIR,
        preloadPath: PRELOAD,
      });
      setups.push(vm2);
      await expect(vm2.controller.sync()).rejects.toMatchObject({ code: 'ERR_INSECURE_URL' });
      expect(e2.fetchCalls).toEqual([start]);
      evil.close();
    } finally {
      moved.close();
    }
  });
});
