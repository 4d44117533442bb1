// Where setupVmCache finds the plugin's preload and pages: in the installed
// package, by its name, never in the host's own out/ (import.meta.url inside a
// host's bundle) nor the host's dev server. These run against this
// repository's dist/ (npm test builds it first) and against a package laid
// out in a host's node_modules.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertPluginFiles, installedPluginFiles, PAGE_FILES } from '../../main/electron/package-files.js';
import { setupVmCacheWith, type VmCacheSetup } from '../../main/electron/setup.js';
import { SECURE_WEB_PREFERENCES } from '../../main/electron/windows.js';
import { tempRoot } from '../helpers.js';
import { electronStandIns, fakeWindow } from './electron-stand-ins.js';
import { recordingLogger, servedBody } from './support.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const DIST_PRELOAD = path.join(REPO, 'dist', 'preload', 'index.cjs');
const DIST_PAGES = path.join(REPO, 'dist', 'pages');

beforeAll(() => {
  if (!existsSync(DIST_PRELOAD) || !existsSync(path.join(DIST_PAGES, 'first-run.html')))
    throw new Error('dist/ is not built: run `npm run build` (npm test does it first)');
});

const setups: VmCacheSetup[] = [];
afterEach(() => {
  while (setups.length > 0) setups.pop()!.dispose();
});

async function setup(options: Parameters<typeof setupVmCacheWith>[1] = {}, packaged = false) {
  const e = electronStandIns(await tempRoot());
  e.app.isPackaged = packaged;
  const vm = setupVmCacheWith(e.parts, { manifestUrl: 'http://127.0.0.1:9/vm/manifest.json', ...options });
  setups.push(vm);
  return { e, vm };
}

/** A host app's folder with the package installed in node_modules (package.json and dist/ as shipped). */
async function hostWithInstalledPackage(): Promise<string> {
  const host = await tempRoot();
  const pkg = path.join(host, 'node_modules', 'electron-vm-cache');
  mkdirSync(pkg, { recursive: true });
  cpSync(path.join(REPO, 'package.json'), path.join(pkg, 'package.json'));
  cpSync(path.join(REPO, 'dist', 'preload'), path.join(pkg, 'dist', 'preload'), { recursive: true });
  cpSync(DIST_PAGES, path.join(pkg, 'dist', 'pages'), { recursive: true });
  mkdirSync(path.join(host, 'out', 'main'), { recursive: true });
  writeFileSync(path.join(host, 'out', 'main', 'index.js'), '');
  return host;
}

describe('the plugin’s own files', () => {
  it('by default come from the package, for the windows and for a host window’s webPreferences', async () => {
    const { vm } = await setup({ prefetchOnReady: false });
    expect(vm.preloadPath).toBe(DIST_PRELOAD);
    const first = fakeWindow(vm.openFirstRunWindow());
    expect(first.loads).toEqual(['url vm-cache://pages/first-run.html']);
    expect(await servedBody(first)).toBe(readFileSync(path.join(DIST_PAGES, 'first-run.html'), 'utf8'));
    expect(first.options.webPreferences?.preload).toBe(DIST_PRELOAD);
    const settings = fakeWindow(vm.openSettingsWindow());
    expect(settings.loads).toEqual(['url vm-cache://pages/settings.html']);
    expect(await servedBody(settings)).toBe(readFileSync(path.join(DIST_PAGES, 'settings.html'), 'utf8'));

    expect(vm.webPreferences()).toEqual({ ...SECURE_WEB_PREFERENCES, preload: DIST_PRELOAD });
    expect(vm.webPreferences({ spellcheck: false })).toMatchObject({ sandbox: true, spellcheck: false });
  });

  it('from a host’s bundle (out/main), resolve into node_modules/electron-vm-cache, not the host’s out/', async () => {
    const host = await hostWithInstalledPackage();
    const bundle = pathToFileURL(path.join(host, 'out', 'main', 'index.js')).href;
    const installed = path.join(host, 'node_modules', 'electron-vm-cache');
    expect(installedPluginFiles([bundle])).toEqual({
      preloadPath: path.join(installed, 'dist', 'preload', 'index.cjs'),
      rendererDir: path.join(installed, 'dist', 'pages'),
    });
  });

  it('are looked up from the app’s folder first, whatever bundled the code (import.meta.url may even be undefined)', async () => {
    const host = await hostWithInstalledPackage();
    const e = electronStandIns(await tempRoot());
    e.app.appPath = host;
    const vm = setupVmCacheWith(e.parts, { prefetchOnReady: false });
    setups.push(vm);
    const installed = path.join(host, 'node_modules', 'electron-vm-cache');
    expect(vm.preloadPath).toBe(path.join(installed, 'dist', 'preload', 'index.cjs'));
    // Served from the installed package's pages (the host's copy, not this repository's).
    writeFileSync(path.join(installed, 'dist', 'pages', 'first-run.html'), '<!-- the installed copy -->');
    const win = fakeWindow(vm.openFirstRunWindow());
    expect(win.loads).toEqual(['url vm-cache://pages/first-run.html']);
    expect(await servedBody(win)).toBe('<!-- the installed copy -->');
  });

  it('a host without the package installed gets an error that says what to do', async () => {
    const bare = await tempRoot();
    const bundle = pathToFileURL(path.join(bare, 'out', 'main', 'index.js')).href;
    expect(() => installedPluginFiles([bundle, undefined])).toThrow(
      new RegExp(`cannot find the installed package from ${path.join(bare, 'out', 'main')}.*"dependencies"`),
    );
  });

  it('a missing preload or page is an error at setup that names the path', async () => {
    const host = await hostWithInstalledPackage();
    const files = installedPluginFiles([pathToFileURL(path.join(host, 'out', 'main', 'index.js')).href]);
    expect(() => assertPluginFiles(files, true)).not.toThrow();
    const settingsPage = path.join(files.rendererDir, PAGE_FILES[1]);
    rmSync(settingsPage);
    expect(() => assertPluginFiles(files, true)).toThrow(`the plugin's page is missing at ${settingsPage}`);
    // Through setup: the host learns it at once, not when a window opens blank.
    await expect(setup({ ...files, prefetchOnReady: false })).rejects.toThrow(settingsPage);
    await expect(setup({ rendererDir: files.rendererDir, preloadPath: '/nowhere/p.cjs' })).rejects.toThrow(
      "the plugin's preload is missing at /nowhere/p.cjs",
    );
  });

  it('never load from the host’s dev server: ELECTRON_RENDERER_URL alone changes nothing', async () => {
    const before = process.env.ELECTRON_RENDERER_URL;
    process.env.ELECTRON_RENDERER_URL = 'http://localhost:5173';
    try {
      const { vm } = await setup({ prefetchOnReady: false });
      const win = fakeWindow(vm.openFirstRunWindow());
      expect(win.loads).toEqual(['url vm-cache://pages/first-run.html']);
    } finally {
      if (before === undefined) delete process.env.ELECTRON_RENDERER_URL;
      else process.env.ELECTRON_RENDERER_URL = before;
    }
  });

  it('a packaged app ignores devServerUrl (and says so); an unpacked one uses it', async () => {
    const logger = recordingLogger();
    const packaged = await setup(
      { prefetchOnReady: false, devServerUrl: 'http://localhost:5173', logger },
      true,
    );
    const win = fakeWindow(packaged.vm.openSettingsWindow());
    expect(win.loads).toEqual(['url vm-cache://pages/settings.html']);
    expect(logger.lines).toContainEqual({
      level: 'warn',
      text: 'devServerUrl is ignored in a packaged app: the pages load from the package',
    });

    const dev = await setup({ prefetchOnReady: false, devServerUrl: 'http://localhost:5173' });
    const devWin = fakeWindow(dev.vm.openSettingsWindow());
    expect(devWin.loads).toEqual(['url http://localhost:5173/settings.html']);
  });
});
