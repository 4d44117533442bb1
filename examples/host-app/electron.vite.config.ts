// What electron-vm-cache needs from a host's build: one setting, in the
// preload. Main needs nothing (the package stays external and loads its own
// preload and pages from node_modules); the renderer bundles the panel like
// any other dependency.
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';

export default defineConfig({
  main: {},
  preload: {
    build: {
      // Bundle exposeVmCache() into the preload file: a sandboxed preload cannot require packages.
      externalizeDeps: { exclude: ['electron-vm-cache'] },
      // A sandboxed preload is a CommonJS script (not electron-vm-cache's need: this app is "type": "module").
      rollupOptions: { output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: {
    build: {
      rollupOptions: {
        input: {
          index: resolve(import.meta.dirname, 'src/renderer/index.html'),
          settings: resolve(import.meta.dirname, 'src/renderer/settings.html'),
        },
      },
    },
  },
});
