// The demo app (npm start, npm run dev): its main process, bundled. Its
// preload and pages are the package's own (dist/, from `npm run build`),
// found the way a host finds them. The renderer section is only
// electron-vite's dev server for working on the pages (`npm run dev`).
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { pagesViteConfig } from './scripts/vite-configs.js';

const here = import.meta.dirname;

export default defineConfig(({ command }) => ({
  main: {
    build: {
      outDir: resolve(here, 'out/demo'),
      rollupOptions: { input: { main: resolve(here, 'demo/main.ts') } },
    },
  },
  // Only `electron-vite dev` serves the pages; a build would make a copy nothing loads.
  ...(command === 'serve' ? { renderer: pagesViteConfig(resolve(here, 'out/renderer')) } : {}),
}));
