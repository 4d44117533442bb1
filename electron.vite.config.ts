// Three bundles: main (ESM, as package.json says "type": "module"), the
// preload (CommonJS with every dependency inlined: a sandboxed preload can
// neither be an ES module nor require anything but a few Electron built-ins),
// and the renderer's two pages.
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';

const here = import.meta.dirname;

export default defineConfig({
  main: {
    build: {
      outDir: resolve(here, 'out/main'),
      rollupOptions: { input: { index: resolve(here, 'main/index.ts') } },
    },
  },
  preload: {
    build: {
      outDir: resolve(here, 'out/preload'),
      // zod (the contract's schemas) must be inside the file: nothing can be required at run time.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(here, 'preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs', inlineDynamicImports: true },
      },
    },
  },
  renderer: {
    root: resolve(here, 'renderer'),
    build: {
      outDir: resolve(here, 'out/renderer'),
      rollupOptions: {
        input: {
          'first-run': resolve(here, 'renderer/first-run.html'),
          settings: resolve(here, 'renderer/settings.html'),
        },
      },
    },
  },
});
