// Issue #13, the Electron side: where the plugin's pages may come from (14),
// what a page can make the main process do and log (15), and Electron's
// security checklist (16). Everything is real (controller, hub, engine, the
// artifact server, files on disk, electron-log's file transport, the demo's
// wiring) except Electron's own objects, which the stand-ins replace.
import { type FSWatcher, mkdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import log from 'electron-log/node';
import { afterEach, describe, expect, it } from 'vitest';
import { INVOKE } from '../../contract/api.js';
import { CONTENT_SECURITY_POLICY, PAGE_META_POLICY } from '../../contract/csp.js';
import type { VerifyReport } from '../../contract/status.js';
import { type DemoApp, startDemoApp } from '../../demo/app.js';
import { pageFileFor, pagesProtocolHandler } from '../../main/electron/pages-protocol.js';
import { PAGES_SCHEME_PRIVILEGES, registerPagesScheme } from '../../main/electron/pages-scheme.js';
import { setupVmCacheWith, type VmCacheSetup } from '../../main/electron/setup.js';
import { lockPath } from '../../main/engine/local-state.js';
import type { VmCacheController } from '../../main/service/controller.js';
import { defaultSenderPolicy, VmCacheHub } from '../../main/service/hub.js';
import { keyOf, listFiles, oneArtifactServer, tempRoot } from '../helpers.js';
import {
  electronStandIns,
  FakeProtocol,
  type FakeWebContents,
  fakeWindow,
  type StandIns,
} from './electron-stand-ins.js';
import {
  controllerFor,
  dripServer,
  PAGE_PREFIX,
  recordingLogger,
  sender,
  servedBody,
  waitFor,
} from './support.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const DIST_PAGES = path.join(REPO, 'dist', 'pages');

const setups: VmCacheSetup[] = [];
const demos: DemoApp[] = [];
const watchers: FSWatcher[] = [];
afterEach(async () => {
  while (setups.length > 0) setups.pop()!.dispose();
  while (demos.length > 0) {
    const demo = demos.pop()!;
    demo.vmCache.dispose();
    await demo.source.close();
  }
  while (watchers.length > 0) watchers.pop()!.close();
});

/** A window's frame sends `channel` (ipcRenderer.invoke from its page). */
const invoke = (e: StandIns, wc: FakeWebContents, channel: string, args: unknown[] = []) =>
  e.ipcMain.invoke(wc, channel, args) as Promise<{ ok: boolean; code?: string }>;

/** electron-log's own file transport (the one the plugin's log uses) writing to a file of the test's. */
let logIds = 0;
function fileLog(file: string) {
  const logger = log.create({ logId: `vm-cache-hardening-${logIds++}` });
  logger.transports.console.level = false;
  logger.transports.file.resolvePathFn = () => file;
  const lines = () => readFileSync(file, 'utf8').split('\n').filter(Boolean);
  return { logger, lines };
}

/**
 * Counts the cache lock's acquisitions as the engine makes them on disk: each
 * one first writes `sync.lock.<pid>.<token>.new` with a fresh random token.
 * settled() writes a file of its own and waits to see it: inotify reports in
 * order, so by then every earlier acquisition has been seen.
 */
function lockAcquisitions(root: string) {
  const dir = path.dirname(lockPath(root));
  mkdirSync(dir, { recursive: true });
  const tokens = new Set<string>();
  const seen = new Set<string>();
  const watcher = watch(dir, (_event, name) => {
    if (!name) return;
    seen.add(name);
    const m = /^sync\.lock\.\d+\.([0-9a-f]+)\.new$/.exec(name);
    if (m) tokens.add(m[1]!);
  });
  watchers.push(watcher);
  let barriers = 0;
  return {
    async settled(): Promise<number> {
      const name = `barrier-${barriers++}`;
      writeFileSync(path.join(dir, name), '');
      await waitFor(() => seen.has(name), 5_000, 'the watcher to catch up');
      return tokens.size;
    },
  };
}

async function syncedController(sizeBytes = 2_000_000, logger = recordingLogger()) {
  const s = await oneArtifactServer(sizeBytes);
  const controller = await controllerFor(s, { logger });
  await controller.sync();
  return { s, controller, key: keyOf(s), logger };
}

describe('14: the pages come from the package, never from a URL the environment names', () => {
  /** The demo as `npm start` or an installed build starts it: not ready yet when main runs. */
  async function launchDemo(e: StandIns, env: NodeJS.ProcessEnv, logger = recordingLogger()) {
    const s = await oneArtifactServer();
    const starting = startDemoApp(e.parts, {
      logger,
      env: { VM_CACHE_MANIFEST_URL: s.manifestUrl, VM_CACHE_ROOT: await tempRoot(), ...env },
    });
    e.app.becomeReady();
    return { s, starting, logger };
  }

  it('the packaged demo does not even pass ELECTRON_RENDERER_URL on: its settings window shows the package’s page, a remote page may not clear', async () => {
    const e = electronStandIns(await tempRoot());
    e.app.isPackaged = true;
    const { starting, logger } = await launchDemo(e, { ELECTRON_RENDERER_URL: 'https://evil.example/' });
    const demo = await starting;
    demos.push(demo);
    await demo.vmCache.controller.sync();
    // Before, the demo handed the URL to setup, which ignored it and said so.
    expect(logger.lines.filter((l) => l.text.includes('devServerUrl'))).toEqual([]);

    const settings = fakeWindow(demo.vmCache.openSettingsWindow());
    expect(settings.loads).toEqual(['url vm-cache://pages/settings.html']);
    expect(await servedBody(settings)).toBe(readFileSync(path.join(DIST_PAGES, 'settings.html'), 'utf8'));
    // Were the window ever at the remote page, its calls are refused and the cache stays.
    settings.webContents.mainFrame.url = 'https://evil.example/settings.html';
    expect(await invoke(e, settings.webContents, INVOKE.clear.channel)).toMatchObject({
      code: 'ERR_FORBIDDEN_SENDER',
    });
    expect(await demo.vmCache.controller.hasCompleteCache()).toBe(true);
  });

  it('unpackaged, a dev server URL that is not on this machine stops the demo at setup, before any window', async () => {
    const e = electronStandIns(await tempRoot());
    const { starting } = await launchDemo(e, { ELECTRON_RENDERER_URL: 'https://evil.example/' });
    await expect(starting).rejects.toThrow(
      /devServerUrl "https:\/\/evil\.example\/" is not a dev server on this machine.*localhost/,
    );
    expect(e.windows).toEqual([]);
    expect(e.ipcMain.handlers.size).toBe(0);
  });

  it('devServerUrl: loopback http(s) only, whatever the spelling', async () => {
    const s = await oneArtifactServer();
    const attempt = async (devServerUrl: string) => {
      const e = electronStandIns(await tempRoot());
      const vm = setupVmCacheWith(e.parts, {
        manifestUrl: s.manifestUrl,
        prefetchOnReady: false,
        devServerUrl,
      });
      setups.push(vm);
      return fakeWindow(vm.openSettingsWindow()).loads[0];
    };
    for (const ok of [
      'http://localhost:5173',
      'http://127.0.0.1:5173/',
      'https://127.0.0.2:9',
      'http://[::1]:5173',
    ]) {
      expect(await attempt(ok), ok).toMatch(/^url https?:\/\/.*\/settings\.html$/);
    }
    for (const bad of [
      'https://evil.example/',
      'http://127.0.0.1.evil.example:5173/',
      'http://localhost.evil.example/',
      'http://user:pw@localhost:5173/',
      'http://10.0.0.5:5173/',
      'file:///tmp/pages/',
      'javascript:alert(1)',
      'not a url',
    ]) {
      await expect(attempt(bad), bad).rejects.toThrow('is not a dev server on this machine');
    }
  });
});

describe('15: a page cannot make the main process repeat work or flood the log', () => {
  it('20 concurrent verify calls: one re-hash (one lock acquisition on disk), one report object for every caller', async () => {
    const { controller, key } = await syncedController();
    const locks = lockAcquisitions(controller.root);
    expect(await locks.settled()).toBe(0);
    const reports = await Promise.all(Array.from({ length: 20 }, () => controller.verify()));
    expect(new Set(reports).size).toBe(1);
    expect(reports[0]).toEqual({ ok: true, entries: [{ key, state: 'ok' }] });
    expect(await locks.settled()).toBe(1);
    // Once it is over, a new call is a new verify.
    const again = await controller.verify();
    expect(again).not.toBe(reports[0]);
    expect(await locks.settled()).toBe(2);
  });

  it('the same through the hub: 20 pages’ verify calls, one re-hash, the same answer for each', async () => {
    const { controller, key } = await syncedController();
    const hub = new VmCacheHub({ controller, isAllowedSender: defaultSenderPolicy([PAGE_PREFIX]) });
    const locks = lockAcquisitions(controller.root);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => hub.invoke(INVOKE.verify.channel, [], sender(i + 1), () => {})),
    );
    for (const answer of answers)
      expect(answer).toEqual({ ok: true, value: { ok: true, entries: [{ key, state: 'ok' }] } });
    expect(await locks.settled()).toBe(1);
  });

  it('clear while a verify runs waits for it; verifies and clears asked for meanwhile join theirs: two operations in all', async () => {
    const { controller, key } = await syncedController(8_000_000);
    const locks = lockAcquisitions(controller.root);
    const verifies: Promise<VerifyReport>[] = [];
    const clears: Promise<{ removedBytes: number }>[] = [];
    for (let i = 0; i < 10; i++) verifies.push(controller.verify());
    for (let i = 0; i < 5; i++) clears.push(controller.clear());
    for (let i = 0; i < 5; i++) verifies.push(controller.verify());
    const [reports, cleared] = await Promise.all([Promise.all(verifies), Promise.all(clears)]);
    // The verify ran first, on the whole cache; the clear then removed it.
    expect(new Set(reports).size).toBe(1);
    expect(reports[0]).toEqual({ ok: true, entries: [{ key, state: 'ok' }] });
    expect(new Set(cleared).size).toBe(1);
    expect(cleared[0]!.removedBytes).toBeGreaterThanOrEqual(8_000_000);
    expect(await controller.hasCompleteCache()).toBe(false);
    expect(await locks.settled()).toBe(2);
  });

  it('a clear still stops a sync at once when a verify is waiting on the sync’s lock', async () => {
    // 12 MB at 200 kB/s: a minute to download, longer than this test may take.
    const { s } = await dripServer(12_000_000, 200_000);
    const controller = await controllerFor(s);
    const syncing = controller.sync();
    syncing.catch(() => {});
    await waitFor(() => controller.currentProgress()?.phase === 'downloading', 10_000, 'the download');
    const verifying = controller.verify();
    await controller.clear();
    await expect(syncing).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(await verifying).toMatchObject({ ok: false });
    expect(controller.syncing).toBe(false);
    // The clear ran after the cancelled sync let go: nothing of it is left, the partial included.
    expect(await listFiles(path.join(controller.root, 'cache'))).toEqual([]);
  });

  it('20 cancel calls during a sync: it is cancelled once, and the log says so once', async () => {
    const logger = recordingLogger();
    const { s } = await dripServer(4_000_000, 200_000);
    const controller: VmCacheController = await controllerFor(s, { logger });
    const syncing = controller.sync();
    syncing.catch(() => {});
    await waitFor(() => controller.currentProgress()?.phase === 'downloading', 10_000, 'the download');
    const answers = await Promise.all(Array.from({ length: 20 }, () => controller.cancel()));
    expect(answers.every((a) => a.cancelled)).toBe(true);
    expect(logger.lines.filter((l) => l.text === 'sync cancel requested')).toHaveLength(1);
  });

  it('10,000 malformed calls from a window write 20 lines and one summary to the log file, and change nothing', async () => {
    const { controller, s } = await syncedController(200_000);
    const file = path.join(await tempRoot(), 'vm-cache.log');
    const sink = fileLog(file);
    const e = electronStandIns(await tempRoot());
    const vm = setupVmCacheWith(e.parts, {
      root: controller.root,
      manifestUrl: s.manifestUrl,
      prefetchOnReady: false,
      logger: sink.logger,
    });
    setups.push(vm);
    const wc = fakeWindow(vm.openSettingsWindow()).webContents;
    const answers = await Promise.all(
      Array.from({ length: 10_000 }, (_, i) => invoke(e, wc, INVOKE.clear.channel, [`junk ${i}`])),
    );
    expect(answers.every((a) => a.code === 'ERR_INVALID_REQUEST')).toBe(true);
    // Another window has a budget of its own.
    const other = fakeWindow(vm.openFirstRunWindow()).webContents;
    expect(await invoke(e, other, INVOKE.verify.channel, ['x'])).toMatchObject({
      code: 'ERR_INVALID_REQUEST',
    });
    vm.dispose(); // writes what the budget held back
    setups.pop();
    const lines = sink.lines();
    expect(lines.filter((l) => l.includes('refused IPC request'))).toHaveLength(21);
    expect(
      lines.filter((l) => l.includes(`suppressed 9980 more line(s) like the above from sender ${wc.id}`)),
    ).toHaveLength(1);
    expect(lines).toHaveLength(22);
    expect(await controller.hasCompleteCache()).toBe(true);
  });

  it('the budget renews each interval, after one summary line for what it held back', async () => {
    const { controller } = await syncedController(200_000);
    const file = path.join(await tempRoot(), 'vm-cache.log');
    const sink = fileLog(file);
    const hub = new VmCacheHub({
      controller,
      isAllowedSender: defaultSenderPolicy([PAGE_PREFIX]),
      logger: sink.logger,
      logLimit: { lines: 5, intervalMs: 300 },
    });
    const junk = () => hub.invoke(INVOKE.sync.channel, ['x'], sender(7), () => {});
    await Promise.all(Array.from({ length: 50 }, junk));
    await waitFor(
      () => sink.lines().some((l) => l.includes('suppressed 45 more line(s)')),
      5_000,
      'the summary',
    );
    expect(sink.lines()).toHaveLength(6);
    await junk();
    expect(sink.lines()).toHaveLength(7);
    expect(sink.lines().at(-1)).toContain('refused IPC request: ERR_INVALID_REQUEST');
    hub.dispose();
  });
});

describe('16: Electron’s security checklist', () => {
  describe('the pages load from vm-cache://pages, served by a handler that knows only the pages folder', () => {
    /** root/pages (the pages), and beside it what must never be served. */
    async function layout() {
      const root = await tempRoot();
      const pages = path.join(root, 'pages');
      const files: Record<string, string> = {
        'pages/settings.html': '<!doctype html><title>settings</title>',
        'pages/assets/main-abc.js': 'export {};',
        'pages/assets/main-abc.css': 'body{}',
        'pages/notes.txt': 'not a page file',
        'pages/.env': 'SECRET=1',
        'secret.html': 'outside the folder',
        'pages-evil/x.html': 'a sibling folder',
      };
      for (const [name, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
        writeFileSync(path.join(root, name), text);
      }
      return { root, pages, handler: pagesProtocolHandler(pages, CONTENT_SECURITY_POLICY) };
    }

    it('serves the folder’s page files with the CSP header, nosniff and their type', async () => {
      const { handler } = await layout();
      const page = await handler(new Request('vm-cache://pages/settings.html'));
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await page.text()).toBe('<!doctype html><title>settings</title>');
      const script = await handler(new Request('vm-cache://pages/assets/main-abc.js'));
      expect([script.status, script.headers.get('content-type'), await script.text()]).toEqual([
        200,
        'text/javascript; charset=utf-8',
        'export {};',
      ]);
      const style = await handler(new Request('vm-cache://pages/assets/main-abc.css?v=1#x'));
      expect(style.status).toBe(200);
    });

    it('refuses every way out of the folder, other hosts, other kinds of file, folders and writes', async () => {
      const { handler, pages } = await layout();
      const refused = [
        'vm-cache://pages/../secret.html',
        'vm-cache://pages/%2e%2e/secret.html',
        'vm-cache://pages/..%2fsecret.html',
        'vm-cache://pages/%2e%2e%2fsecret.html',
        'vm-cache://pages/assets/..%2f..%2fsecret.html',
        'vm-cache://pages/..%5csecret.html',
        'vm-cache://pages/..%2fpages-evil%2fx.html',
        'vm-cache://pages/%2fetc%2fpasswd',
        'vm-cache://pages//etc/passwd',
        `vm-cache://pages/${encodeURIComponent(path.join(pages, '..', 'secret.html'))}`,
        'vm-cache://pages/settings.html%00.js',
        'vm-cache://pages/%E0%A4%A',
        'vm-cache://pages/notes.txt',
        'vm-cache://pages/.env',
        'vm-cache://pages/assets',
        'vm-cache://pages/',
        'vm-cache://other/settings.html',
        'vm-cache://pages.evil/settings.html',
        'file:///etc/passwd',
        'https://pages/settings.html',
      ];
      for (const url of refused) {
        const response = await handler(new Request(url));
        expect(response.status, url).toBe(404);
        expect(await response.text(), url).toBe('');
      }
      const post = await handler(
        new Request('vm-cache://pages/settings.html', { method: 'POST', body: 'x' }),
      );
      expect(post.status).toBe(405);
      // What a URL maps to, for the ones that do: always inside the folder.
      expect(pageFileFor(pages, 'vm-cache://pages/assets/main-abc.js')).toBe(
        path.join(pages, 'assets', 'main-abc.js'),
      );
      expect(pageFileFor(pages, 'vm-cache://pages/a/../settings.html')).toBe(
        path.join(pages, 'settings.html'),
      );
    });

    it('setup before ready: the scheme is made privileged once (standard, secure, fetch; nothing more) and every window loads from it', async () => {
      const s = await oneArtifactServer();
      const e = electronStandIns(await tempRoot());
      const vm = setupVmCacheWith(e.parts, { manifestUrl: s.manifestUrl, prefetchOnReady: false });
      setups.push(vm);
      expect(e.protocol.privileged).toEqual([
        [{ scheme: 'vm-cache', privileges: { standard: true, secure: true, supportFetchAPI: true } }],
      ]);
      e.app.becomeReady();
      const settings = fakeWindow(vm.openSettingsWindow());
      const first = fakeWindow(vm.openFirstRunWindow());
      expect([...settings.loads, ...first.loads]).toEqual([
        'url vm-cache://pages/settings.html',
        'url vm-cache://pages/first-run.html',
      ]);
      expect(await servedBody(settings)).toBe(readFileSync(path.join(DIST_PAGES, 'settings.html'), 'utf8'));
      expect(settings.responses[0]!.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      // Its pages may call; the same folder over file://, or another host of the scheme, may not.
      expect(await invoke(e, settings.webContents, INVOKE.getStatus.channel)).toMatchObject({ ok: true });
      for (const url of [
        `file://${path.join(DIST_PAGES, 'settings.html')}`,
        'vm-cache://evil/settings.html',
      ]) {
        settings.webContents.mainFrame.url = url;
        expect(await invoke(e, settings.webContents, INVOKE.getStatus.channel), url).toMatchObject({
          code: 'ERR_FORBIDDEN_SENDER',
        });
      }

      // A second setup (a dev reload): no second registration, the handler is replaced, windows still load.
      setups.pop()!.dispose();
      const again = setupVmCacheWith(e.parts, { manifestUrl: s.manifestUrl, prefetchOnReady: false });
      setups.push(again);
      expect(e.protocol.privileged).toHaveLength(1);
      const reopened = fakeWindow(again.openSettingsWindow());
      expect(await servedBody(reopened)).toContain('<!doctype html>');
    });

    it('setup after ready: pages fall back to file://, and the log says what to call instead', async () => {
      const s = await oneArtifactServer();
      const e = electronStandIns(await tempRoot());
      e.app.becomeReady();
      const logger = recordingLogger();
      const vm = setupVmCacheWith(e.parts, { manifestUrl: s.manifestUrl, prefetchOnReady: false, logger });
      setups.push(vm);
      expect(e.protocol.privileged).toEqual([]);
      expect(logger.lines).toContainEqual({
        level: 'warn',
        text: expect.stringContaining(
          'call setupVmCache, or registerVmCacheScheme(), before app.whenReady()',
        ),
      });
      const win = fakeWindow(vm.openSettingsWindow());
      expect(win.loads).toEqual([`file ${path.join(DIST_PAGES, 'settings.html')}`]);
    });

    it('registerVmCacheScheme: the host’s schemes and the plugin’s in Electron’s one call; too late or twice is a clear error', async () => {
      const e = electronStandIns(await tempRoot());
      const hostScheme = { scheme: 'app', privileges: { standard: true, secure: true } };
      registerPagesScheme(e.protocol, e.app, [hostScheme]);
      expect(e.protocol.privileged).toEqual([[hostScheme, PAGES_SCHEME_PRIVILEGES]]);
      // setup after that adds no call of its own (it would drop the host's privileges).
      const vm = setupVmCacheWith(e.parts, { prefetchOnReady: false });
      setups.push(vm);
      expect(e.protocol.privileged).toHaveLength(1);
      expect(() => registerPagesScheme(e.protocol, e.app, [{ scheme: 'other' }])).toThrow(
        'pass your schemes to the first registerVmCacheScheme() call',
      );
      // A later direct call (the host's, another library's) replaces the earlier one in Electron:
      // it is made to keep the plugin's scheme, or the plugin's windows would load nothing.
      const later = { scheme: 'late', privileges: { standard: true } };
      e.protocol.registerSchemesAsPrivileged([later]);
      expect(e.protocol.privileged.at(-1)).toEqual([later, PAGES_SCHEME_PRIVILEGES]);

      const late = electronStandIns(await tempRoot());
      late.app.becomeReady();
      expect(() => registerPagesScheme(new FakeProtocol(late.app), late.app)).toThrow(
        'registerVmCacheScheme() must run before the app is ready',
      );
    });
  });

  it('electron-builder.yml sets the fuses, under names the installed electron-builder knows', () => {
    const require = createRequire(import.meta.url);
    const yaml = require('js-yaml') as { load(text: string): unknown };
    const config = yaml.load(readFileSync(path.join(REPO, 'electron-builder.yml'), 'utf8')) as {
      electronFuses?: Record<string, unknown>;
      asar?: unknown;
    };
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
    // onlyLoadAppFromAsar and the integrity check need the app in an asar.
    expect(config.asar).toBe(true);
    const schema = require('app-builder-lib/scheme.json') as {
      definitions: { FuseOptionsV1: { properties: Record<string, { type: string }> } };
    };
    for (const name of Object.keys(config.electronFuses!)) {
      expect(schema.definitions.FuseOptionsV1.properties[name]?.type, name).toBe('boolean');
    }
  });

  it('the CSP the pages carry and the one they are served with are exactly what docs/electron.md says', () => {
    const docs = readFileSync(path.join(REPO, 'docs', 'electron.md'), 'utf8').replace(/\s+/g, ' ');
    expect(docs).toContain(`\`${CONTENT_SECURITY_POLICY}\``);
    expect(docs).toContain(`\`${PAGE_META_POLICY}\``);
    for (const page of ['first-run.html', 'settings.html']) {
      const html = readFileSync(path.join(REPO, 'renderer', page), 'utf8');
      const metas = [...html.matchAll(/http-equiv="Content-Security-Policy" content="([^"]*)"/g)].map(
        (m) => m[1],
      );
      expect(metas, page).toEqual([PAGE_META_POLICY]);
    }
    // The meta allows no host at all; the header narrows connect-src to nothing.
    expect(PAGE_META_POLICY).not.toMatch(/ws:|wss:|http:|https:|\*/);
    expect(CONTENT_SECURITY_POLICY).toContain("connect-src 'none'");
  });
});
