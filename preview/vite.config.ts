// A plain Vite build of the same pages the package ships, for the browser
// preview. The only difference: each page gets the WebSocket bridge as its
// first module, so window.vmCache exists before the panel connects. The
// package's build (scripts/build.ts) never sees the bridge.
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin, type UserConfig } from 'vite';
import { pagesViteConfig } from '../scripts/vite-configs.js';

export const DEFAULT_OUT_DIR = fileURLToPath(new URL('../out/preview-renderer/', import.meta.url));

const BRIDGE_ENTRY = './bridge/preview-entry.ts';

function injectBridge(): Plugin {
  return {
    name: 'vm-cache-preview-bridge',
    transformIndexHtml: {
      // 'pre': before Vite bundles the page's scripts, so the bridge is bundled too
      // and runs ahead of main.ts (module scripts run in document order).
      order: 'pre',
      handler: () => [
        { tag: 'script', attrs: { type: 'module', src: BRIDGE_ENTRY }, injectTo: 'head-prepend' },
      ],
    },
  };
}

export function previewViteConfig(outDir: string = DEFAULT_OUT_DIR): UserConfig {
  return pagesViteConfig(outDir, [injectBridge()]);
}

export default defineConfig(previewViteConfig());
