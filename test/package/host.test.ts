// The package as a host app gets it: packed, installed into a temporary copy
// of examples/host-app, and used there from plain Node, the installed CLI, a
// strict TypeScript project, the example's electron-vite build, a sandboxed
// preload harness, and the example's main process with stand-ins for
// Electron's objects (nothing else is a stand-in: the engine syncs for real
// from the artifact server on 127.0.0.1).
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArtifactServer, startArtifactServer } from '../../server/index.js';
import { expectVmCacheOnly } from '../main/sandboxed-preload.js';
import { FIXTURES, type Host, installHost, ok, readJsonLines, run } from './support.js';

let host: Host;
let server: ArtifactServer;
// Made here, so it goes even when the install fails half-way.
const work = mkdtempSync(path.join(os.tmpdir(), 'vm-cache-host-'));

/** The example's main process, built four ways a host may build it (all from the same sources but the last). */
const MAINS = {
  /** electron-vite's defaults: ESM, the plugin kept external. */
  external: path.join('out', 'main', 'index.js'),
  /** The plugin bundled into the host's main. */
  bundled: path.join('out-bundled', 'main', 'index.js'),
  /** A CommonJS host (the electron-vite template's default): require() of the ESM package. */
  commonjs: path.join('out-cjs', 'main', 'index.cjs'),
  /** esbuild to CommonJS, which leaves import.meta.url undefined in the plugin's code. */
  esbuild: path.join('out-esbuild', 'main.cjs'),
};

const bin = (name: string) => path.join(host.dir, 'node_modules', '.bin', name);

beforeAll(async () => {
  server = await startArtifactServer({
    artifacts: [
      { agent: 'openclaw', version: '2026.4.12', arch: 'x64', sizeBytes: 300_000 },
      { agent: 'openclaw', version: '2026.4.12', arch: 'arm64', sizeBytes: 200_000 },
    ],
  });
  host = await installHost(work);
  const build = (what: string, ...args: string[]) =>
    ok(run(bin('electron-vite'), ['build', ...args], { cwd: host.dir }), `electron-vite build (${what})`);
  await build('the example as it is');
  const variant = (name: string, main: string) => {
    writeFileSync(
      path.join(host.dir, `electron.vite.${name}.config.ts`),
      `export default { main: ${main} };\n`,
    );
    return build(name, '--config', `electron.vite.${name}.config.ts`, '--outDir', `out-${name}`);
  };
  await variant('bundled', "{ build: { externalizeDeps: { exclude: ['electron-vm-cache'] } } }");
  await variant(
    'cjs',
    "{ build: { rollupOptions: { output: { format: 'cjs', entryFileNames: '[name].cjs' } } } }",
  );
  writeFileSync(
    path.join(host.dir, 'esbuild-main.ts'),
    "import { setupVmCache } from 'electron-vm-cache/main/electron';\n" +
      'const vmCache = setupVmCache({ prefetchOnReady: false });\nvmCache.openSettingsWindow();\nvmCache.dispose();\n',
  );
  await ok(
    run(
      bin('esbuild'),
      [
        'esbuild-main.ts',
        '--bundle',
        '--platform=node',
        '--format=cjs',
        '--external:electron',
        `--outfile=${MAINS.esbuild}`,
      ],
      { cwd: host.dir },
    ),
    'esbuild of a host main with the plugin inside',
  );
}, 420_000);

afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

const node = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, args, { cwd: host.dir, env });

/** The URLs of the modules a Node program loaded (see fixtures/record-imports.mjs). */
async function loadedBy(args: string[], env: Record<string, string> = {}): Promise<string[]> {
  const log = path.join(work, `imports-${Date.now()}-${Math.random()}.log`);
  await ok(
    node(['--import', path.join(FIXTURES, 'record-imports.mjs'), ...args], { ...env, IMPORTS_LOG: log }),
    `node ${args.join(' ')}`,
  );
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

const inPackage = (dep: string) => (url: string) => url.includes(`/node_modules/${dep}/`);

describe('the packed tarball', () => {
  it('ships the built package only: no sources, tests, benches, preview, demo or CI files', () => {
    const paths = host.packed.files.map((f) => f.path);
    const outside = paths.filter(
      (p) => !p.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(p),
    );
    expect(outside).toEqual([]);
    expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
    for (const needed of [
      'LICENSE',
      'CHANGELOG.md',
      'README.md',
      'dist/main/engine/index.js',
      'dist/main/engine/index.d.ts',
      'dist/main/electron/index.js',
      'dist/main/service/index.js',
      'dist/main/service/index.d.ts',
      'dist/preload/index.cjs',
      'dist/preload/expose.js',
      'dist/pages/first-run.html',
      'dist/pages/settings.html',
      'dist/cli/bin.js',
    ])
      expect(paths).toContain(needed);
  });

  it('is a publishable plugin: not private, electron an optional peer, ws not a dependency', () => {
    const pkg = JSON.parse(readFileSync(path.join(host.installed, 'package.json'), 'utf8'));
    expect(pkg.private).toBeUndefined();
    expect(pkg.peerDependencies.electron).toMatch(/^>=\d+/);
    expect(pkg.peerDependenciesMeta.electron.optional).toBe(true);
    expect(Object.keys(pkg.dependencies)).not.toContain('ws');
    expect(Object.keys(pkg.dependencies)).not.toContain('electron');
  });
});

describe('an engine-only host on plain Node', () => {
  it('imports the engine by the package name and syncs from the artifact server', async () => {
    const root = path.join(work, 'engine-root');
    const script = `
      import { ensureVmCacheSynced } from 'electron-vm-cache';
      const result = await ensureVmCacheSynced({ root: ${JSON.stringify(root)}, manifestUrl: ${JSON.stringify(server.manifestUrl)} });
      console.log(JSON.stringify(result));`;
    const loaded = await loadedBy(['--input-type=module', '-e', script]);
    const key = 'vm/images/openclaw-2026.4.12-x64.tar.gz';
    expect(existsSync(path.join(root, 'cache', key))).toBe(true);
    expect(existsSync(path.join(root, 'cache', 'vm', 'manifest.json'))).toBe(true);
    // It ran from the installed package, and paid nothing for the panel or the Electron side.
    expect(loaded.some((u) => u.includes('/node_modules/electron-vm-cache/dist/main/engine/index.js'))).toBe(
      true,
    );
    expect(loaded.filter(inPackage('lit'))).toEqual([]);
    expect(loaded.filter(inPackage('electron-log'))).toEqual([]);
    expect(loaded.filter(inPackage('electron'))).toEqual([]);
  });

  it('drives the service (controller and hub) by its subpath, with no electron loaded', async () => {
    const root = path.join(work, 'service-root');
    const script = `
      import { CHANNELS } from 'electron-vm-cache/contract';
      import { defaultSenderPolicy, VmCacheController, VmCacheHub } from 'electron-vm-cache/main/service';
      const controller = new VmCacheController({ root: ${JSON.stringify(root)}, manifestUrl: ${JSON.stringify(server.manifestUrl)} });
      const hub = new VmCacheHub({ controller, isAllowedSender: defaultSenderPolicy(['http://127.0.0.1:1']) });
      const page = { id: 1, url: 'http://127.0.0.1:1/index.html', isMainFrame: true };
      const synced = await hub.invoke(CHANNELS.sync, [], page, () => {});
      const refused = await hub.invoke(CHANNELS.getStatus, [], { ...page, url: 'https://elsewhere.example/' }, () => {});
      hub.dispose();
      if (!synced.ok || refused.ok) throw new Error(JSON.stringify({ synced, refused }));`;
    const loaded = await loadedBy(['--input-type=module', '-e', script]);
    expect(existsSync(path.join(root, 'cache', 'vm', 'manifest.json'))).toBe(true);
    expect(loaded.some((u) => u.includes('/node_modules/electron-vm-cache/dist/main/service/index.js'))).toBe(
      true,
    );
    expect(loaded.filter(inPackage('electron'))).toEqual([]);
    expect(loaded.filter(inPackage('electron-log'))).toEqual([]);
    expect(loaded.filter(inPackage('lit'))).toEqual([]);
  });

  it('a CommonJS host can require() it (Node 20.19+)', async () => {
    const r = await ok(
      node(['-e', "const m = require('electron-vm-cache'); console.log(typeof m.ensureVmCacheSynced)"]),
      'require()',
    );
    expect(r.stdout.trim()).toBe('function');
  });
});

describe('the installed vm-cache command', () => {
  it('runs on plain Node with no tsx installed', async () => {
    expect(existsSync(path.join(host.dir, 'node_modules', 'tsx'))).toBe(false);
    const version = await ok(run(bin('vm-cache'), ['--version'], { cwd: host.dir }), 'vm-cache --version');
    expect(version.stdout.trim()).toBe(
      JSON.parse(readFileSync(path.join(host.installed, 'package.json'), 'utf8')).version,
    );

    const root = path.join(work, 'cli-root');
    const sync = await ok(
      run(bin('vm-cache'), ['sync', '--manifest', server.manifestUrl, '--root', root, '--json'], {
        cwd: host.dir,
      }),
      'vm-cache sync',
    );
    const last = JSON.parse(sync.stdout.trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ type: 'result', downloaded: ['vm/images/openclaw-2026.4.12-x64.tar.gz'] });
    expect(existsSync(path.join(root, 'cache', 'vm', 'manifest.json'))).toBe(true);
  });
});

describe('a strict TypeScript host', () => {
  const STRICT = {
    compilerOptions: {
      module: 'node16',
      moduleResolution: 'node16',
      target: 'ES2022',
      lib: ['ES2023', 'DOM'],
      types: ['node'],
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: true,
      noEmit: true,
    },
  };
  const USES = `
import { ensureVmCacheSynced, getCachedManifestPath, type SyncProgress, type VmManifest } from 'electron-vm-cache';
import { verifyVmCache } from 'electron-vm-cache/main/engine';
import { setupVmCache, type SetupVmCacheOptions } from 'electron-vm-cache/main/electron';
import { defaultSenderPolicy, VmCacheController, VmCacheHub } from 'electron-vm-cache/main/service';
import { INVOKE, type VmCacheApi } from 'electron-vm-cache/contract';
import { defineVmCachePanel, formatBytes, VmCachePanel } from 'electron-vm-cache/renderer/panel';
import { exposeVmCache } from 'electron-vm-cache/preload/expose';

export async function engine(): Promise<string | undefined> {
  const progress: SyncProgress[] = [];
  const result = await ensureVmCacheSynced({ root: '/tmp/r', retries: 2, onProgress: (p) => progress.push(p) });
  const manifest: VmManifest | undefined = undefined;
  await verifyVmCache({ root: '/tmp/r' });
  return result.downloaded[0] ?? manifest ?? getCachedManifestPath('/tmp/r');
}
export function electronSide(options: SetupVmCacheOptions): string {
  const vmCache = setupVmCache(options);
  return vmCache.webPreferences({ spellcheck: false }).preload ?? vmCache.preloadPath;
}
export function service(root: string): VmCacheHub {
  const controller = new VmCacheController({ root, retries: 2 });
  return new VmCacheHub({ controller, isAllowedSender: defaultSenderPolicy(['app://host']) });
}
export async function page(api: VmCacheApi): Promise<string> {
  defineVmCachePanel();
  const panel: VmCachePanel = document.createElement('vm-cache-panel');
  panel.mode = 'settings';
  exposeVmCache();
  const status = await api.getStatus();
  return status.ok ? formatBytes(status.value.sizeOnDiskBytes) : \`\${status.code} \${INVOKE.sync.channel}\`;
}
`;

  function strictProject(name: string, source: string, extra: object = {}): string {
    const dir = path.join(host.dir, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ ...STRICT, ...extra, include: ['*.ts'] }),
    );
    writeFileSync(path.join(dir, 'uses.ts'), source);
    return dir;
  }
  const tsc = (dir: string, ...args: string[]) =>
    run(
      process.execPath,
      [path.join(host.dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir, ...args],
      {
        cwd: host.dir,
      },
    );

  it('type-checks node16 + strict + exactOptionalPropertyTypes against the shipped .d.ts only', async () => {
    const dir = strictProject('strict', USES);
    await ok(tsc(dir), 'tsc (strict host)');
    const listed = (await ok(tsc(dir, '--listFilesOnly'), 'tsc --listFilesOnly')).stdout.split('\n');
    const ours = listed.filter((f) => f.includes('/node_modules/electron-vm-cache/'));
    expect(ours.length).toBeGreaterThan(5);
    expect(ours.filter((f) => !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('the types are real: a wrong option is an error there', async () => {
    const dir = strictProject(
      'strict-wrong',
      "import { ensureVmCacheSynced } from 'electron-vm-cache';\nvoid ensureVmCacheSynced({ retries: 'many' });\n",
    );
    const r = await tsc(dir);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/uses\.ts.*TS2322: Type 'string' is not assignable to type 'number'/);
  });

  it('legacy (node10) resolution finds the subpaths’ types too', async () => {
    const dir = strictProject(
      'legacy',
      "import type { SetupVmCacheOptions } from 'electron-vm-cache/main/electron';\nimport type { VmCacheHubOptions } from 'electron-vm-cache/main/service';\nimport type { VmManifest } from 'electron-vm-cache';\nexport type All = [SetupVmCacheOptions, VmCacheHubOptions, VmManifest];\n",
      { compilerOptions: { ...STRICT.compilerOptions, module: 'commonjs', moduleResolution: 'node10' } },
    );
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ private: true }));
    await ok(tsc(dir), 'tsc (node10 resolution)');
  });

  it('the example itself type-checks against the installed package', async () => {
    await ok(tsc(host.dir), 'tsc (the example)');
  });
});

describe('the example host’s electron-vite build', () => {
  it('keeps the plugin external in main by default; no build of main holds the artifact server', () => {
    const main = readFileSync(path.join(host.dir, MAINS.external), 'utf8');
    expect(main).toMatch(/from "electron-vm-cache\/main\/electron"/);
    const bundled = readFileSync(path.join(host.dir, MAINS.bundled), 'utf8');
    expect(bundled).not.toMatch(/from "electron-vm-cache/);
    expect(bundled).toMatch(/function setupVmCache/);
    expect(readFileSync(path.join(host.dir, MAINS.commonjs), 'utf8')).toMatch(
      /require\("electron-vm-cache\/main\/electron"\)/,
    );
    for (const file of Object.values(MAINS))
      expect(readFileSync(path.join(host.dir, file), 'utf8')).not.toMatch(
        /startArtifactServer|demoArtifacts/,
      );
  });

  it('its settings page carries the panel, bundled from the package', () => {
    const html = readFileSync(path.join(host.dir, 'out', 'renderer', 'settings.html'), 'utf8');
    expect(html).toContain('<vm-cache-panel mode="settings">');
    const script = html.match(/src="\.\/(assets\/settings-[^"]+\.js)"/)?.[1];
    expect(script).toBeDefined();
    const code = readFileSync(path.join(host.dir, 'out', 'renderer', script!), 'utf8');
    expect(code).toContain('customElements.define(');
    expect(code).toContain('"vm-cache-panel"');
    expect(readdirSync(path.join(host.dir, 'out', 'renderer', 'assets'))).toEqual([path.basename(script!)]);
  });

  it('its preload (exposeVmCache inlined) runs sandboxed: requires only electron, exposes exactly vmCache', async () => {
    await expectVmCacheOnly(path.join(host.dir, 'out', 'preload', 'index.cjs'));
  });

  it('electron-vm-cache/preload resolves to the installed self-contained preload, which runs sandboxed', async () => {
    const r = await ok(node(['-e', "console.log(require.resolve('electron-vm-cache/preload'))"]), 'resolve');
    const file = r.stdout.trim();
    expect(file).toBe(path.join(host.installed, 'dist', 'preload', 'index.cjs'));
    await expectVmCacheOnly(file);
  });
});

interface WindowEvent {
  event: 'window' | 'load';
  index: number;
  preload?: string | null;
  file?: string;
  url?: string;
  /** For a page served by a protocol handler: its status and body (base64). */
  status?: number;
  body?: string;
}

describe('the example’s main process, with stand-ins for Electron’s objects', () => {
  beforeAll(() => {
    // The Electron binary cannot run here; its module becomes the stand-in (after the builds, which read it).
    copyFileSync(
      path.join(FIXTURES, 'electron-stand-in.cjs'),
      path.join(host.dir, 'node_modules', 'electron', 'index.js'),
    );
  });

  /** Runs a built main to its end; what it asked of windows, the modules it loaded, whether the sync finished. */
  async function runMain(main: string, name: string, packaged = true) {
    const dir = path.join(work, name);
    mkdirSync(dir, { recursive: true });
    const log = path.join(dir, 'windows.log');
    const loaded = await loadedBy([main], {
      STAND_IN_LOG: log,
      STAND_IN_USER_DATA: dir,
      STAND_IN_PACKAGED: packaged ? '1' : '0',
      // Set as `electron-vite dev` sets it: the plugin's own windows must not follow it, packaged or not.
      ELECTRON_RENDERER_URL: 'http://127.0.0.1:9/',
      VM_CACHE_MANIFEST_URL: server.manifestUrl,
    });
    const events = readJsonLines<WindowEvent>(log);
    // A page from the plugin's scheme must be the package's own file, byte for byte.
    for (const e of events) {
      if (e.url?.startsWith('vm-cache://pages/')) {
        expect(e.status).toBe(200);
        expect(Buffer.from(e.body!, 'base64')).toEqual(readFileSync(pluginPage(path.posix.basename(e.url))));
      }
    }
    return {
      loaded,
      preloads: events.filter((e) => e.event === 'window').map((e) => e.preload),
      loads: events.filter((e) => e.event === 'load').map((e) => e.file ?? e.url),
      synced: existsSync(path.join(dir, 'userData', 'vm-cache', 'cache', 'vm', 'manifest.json')),
    };
  }

  const pluginPreload = () => path.join(host.installed, 'dist', 'preload', 'index.cjs');
  const pluginPage = (name: string) => path.join(host.installed, 'dist', 'pages', name);
  /** Where the plugin's window loads a page from: its own scheme, served from pluginPage(name). */
  const schemePage = (name: string) => `vm-cache://pages/${name}`;

  for (const variant of ['external', 'bundled', 'commonjs'] as const) {
    it(`(${variant}) opens its window with its own preload and the plugin’s first-run window from the package, then syncs`, async () => {
      const r = await runMain(MAINS[variant], variant);
      // The app's own files are beside its main's out folder (only `out` has them: the variants build main only).
      const out = path.join(host.dir, path.dirname(path.dirname(MAINS[variant])));
      expect(r.preloads).toEqual([path.join(out, 'preload', 'index.cjs'), pluginPreload()]);
      expect(r.loads).toEqual([path.join(out, 'renderer', 'index.html'), schemePage('first-run.html')]);
      // Every file asked for exists; the app's own too where its build made them (the default one).
      const made =
        variant === 'external'
          ? [...r.preloads, r.loads[0], pluginPage('first-run.html')]
          : [pluginPreload(), pluginPage('first-run.html')];
      for (const file of made) expect(existsSync(file!)).toBe(true);
      // The launch sync ran to the end through the stand-in's net.fetch (the real fetch).
      expect(r.synced).toBe(true);
      expect(r.loaded.filter((u) => u.includes('/dist/server/'))).toEqual([]);
    });
  }

  it('unpackaged under electron-vite dev: the app’s page comes from its dev server, the plugin’s from the package', async () => {
    const r = await runMain(MAINS.external, 'dev', false);
    expect(r.loads).toEqual(['http://127.0.0.1:9/', schemePage('first-run.html')]);
  });

  it('bundled by esbuild to CommonJS (import.meta.url undefined), the settings window still comes from the package', async () => {
    const r = await runMain(MAINS.esbuild, 'esbuild');
    expect(r.preloads).toEqual([pluginPreload()]);
    expect(r.loads).toEqual([schemePage('settings.html')]);
  });

  it('setupVmCache opens the plugin’s settings window from the package’s page, with or without devServerUrl', async () => {
    const dir = path.join(work, 'settings');
    mkdirSync(dir, { recursive: true });
    const log = path.join(dir, 'windows.log');
    const script = `
      import { setupVmCache } from 'electron-vm-cache/main/electron';
      const vmCache = setupVmCache({ prefetchOnReady: false, devServerUrl: 'http://127.0.0.1:9/' });
      vmCache.openSettingsWindow();
      vmCache.dispose();`;
    await ok(
      node(['--input-type=module', '-e', script], {
        STAND_IN_LOG: log,
        STAND_IN_USER_DATA: dir,
        STAND_IN_PACKAGED: '1',
      }),
      'openSettingsWindow',
    );
    expect(readJsonLines<WindowEvent | { event: 'schemes'; schemes: string[] }>(log)).toEqual([
      // Set up before the app was ready: the plugin's scheme was made privileged, in one call.
      { event: 'schemes', schemes: ['vm-cache'] },
      { event: 'window', index: 0, preload: pluginPreload() },
      {
        event: 'load',
        index: 0,
        url: schemePage('settings.html'),
        status: 200,
        body: readFileSync(pluginPage('settings.html')).toString('base64'),
      },
    ]);
  });
});
