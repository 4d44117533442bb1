// The two Vite builds of the package that tsc cannot do, shared by every
// build that makes them: the package (scripts/build.ts), the demo's dev
// server (electron.vite.config.ts) and the browser preview (preview/).
import { fileURLToPath } from 'node:url';
import type { Plugin, Rollup, UserConfig } from 'vite';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
export const RENDERER_DIR = `${REPO}renderer/`;

/** zod's sources carry comments Rollup reports on every build; they are not ours to fix. */
function quietWarnings(warning: Rollup.RollupLog, warn: (w: Rollup.RollupLog) => void): void {
  if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('node_modules')) return;
  warn(warning);
}

/** The plugin's first-run and settings pages: relative URLs, so they load from file:// anywhere. */
export function pagesViteConfig(outDir: string, plugins: Plugin[] = []): UserConfig {
  return {
    root: RENDERER_DIR,
    base: './',
    logLevel: 'warn',
    plugins,
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: true,
      rollupOptions: {
        onwarn: quietWarnings,
        input: {
          'first-run': `${RENDERER_DIR}first-run.html`,
          settings: `${RENDERER_DIR}settings.html`,
        },
      },
    },
  };
}

/**
 * The preload as one CommonJS file that requires only `electron`: a sandboxed
 * preload can be neither an ES module nor require anything else at run time.
 * Written beside tsc's output in dist/preload, so the folder is not emptied.
 */
export function preloadViteConfig(outDir: string): UserConfig {
  return {
    root: REPO,
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: false,
      target: 'es2022',
      sourcemap: true,
      minify: false,
      lib: { entry: `${REPO}preload/index.ts`, formats: ['cjs'], fileName: () => 'index.cjs' },
      rollupOptions: { external: ['electron'], onwarn: quietWarnings },
    },
  };
}
