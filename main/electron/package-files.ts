// Where the plugin's own built files are: its preload and its two pages ship
// in the installed package (dist/preload/index.cjs, dist/pages/). They are
// found through the package's name, never through this file's location:
// inside a host's bundle, import.meta.url is the host's own out/main (or, with
// some bundlers, undefined or the build machine's path), which holds neither.
// Node's resolution from the app's folder reaches the host's
// node_modules/electron-vm-cache, bundled or not, packaged in an asar or not;
// in this repository it reaches the repository itself (a package may import
// itself by name), so the demo uses the same files a host does.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_NAME = 'electron-vm-cache';
export const PAGE_FILES = ['first-run.html', 'settings.html'] as const;

export interface PluginFiles {
  /** The self-contained CommonJS preload. */
  preloadPath: string;
  /** The folder with first-run.html and settings.html. */
  rendererDir: string;
}

/**
 * The installed package's preload and pages folder, resolved from the first of
 * `from` (file paths or URLs of a module) that reaches the package. setup asks
 * from the app's own folder first (`app.getAppPath()`: the host's root, in an
 * asar or not, whatever bundled it), then from this module, which covers hosts
 * without an app path (tests, plain Node). A bundler may leave `import.meta.url`
 * undefined (esbuild to CommonJS); such entries are skipped.
 */
export function installedPluginFiles(
  from: ReadonlyArray<string | undefined> = [import.meta.url],
): PluginFiles {
  const failures: string[] = [];
  for (const base of from) {
    if (typeof base !== 'string' || base === '') continue;
    try {
      const require = createRequire(base);
      const preloadPath = require.resolve(`${PACKAGE_NAME}/preload`);
      const manifest = require.resolve(`${PACKAGE_NAME}/package.json`);
      return { preloadPath, rendererDir: path.join(path.dirname(manifest), 'dist', 'pages') };
    } catch (err) {
      // Node's message is followed by a require stack; its first line says it all.
      const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      failures.push(`from ${base.startsWith('file:') ? fileURLToPath(base) : base} (${reason})`);
    }
  }
  throw new Error(
    `${PACKAGE_NAME}: cannot find the installed package ${failures.join(', ') || '(nowhere to look from)'}; ` +
      `keep ${PACKAGE_NAME} in the app's "dependencies" (its preload and pages are loaded from it at run time), ` +
      'or pass preloadPath and rendererDir to setupVmCache',
  );
}

/** Throws, naming the path, when a file the plugin's windows need is missing. */
export function assertPluginFiles(files: PluginFiles, checkPages: boolean): void {
  const needed = [
    { file: files.preloadPath, what: 'preload' },
    ...(checkPages
      ? PAGE_FILES.map((name) => ({ file: path.join(files.rendererDir, name), what: 'page' }))
      : []),
  ];
  for (const { file, what } of needed) {
    if (!existsSync(file)) {
      throw new Error(
        `${PACKAGE_NAME}: the plugin's ${what} is missing at ${file}; reinstall ${PACKAGE_NAME}` +
          ' (in this repository: npm run build), or pass the right path to setupVmCache',
      );
    }
  }
}
