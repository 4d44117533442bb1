// A plain Vite build of the same pages the package ships, for the browser
// preview. The only difference: each page gets the WebSocket bridge
// (preview/web/, browser code of this tool, not of renderer/) as its first
// module, so window.vmCache exists before the panel connects. The package's
// build (scripts/build.ts) never sees the bridge.
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin, type UserConfig } from 'vite';
import { pagesViteConfig } from '../scripts/vite-configs.js';

export const DEFAULT_OUT_DIR = fileURLToPath(new URL('../out/preview-renderer/', import.meta.url));

/** The bridge's entry, outside the Vite root (renderer/). */
const BRIDGE_FILE = fileURLToPath(new URL('./web/preview-entry.ts', import.meta.url));
/** What the pages' <script src> names; resolved to BRIDGE_FILE below, never looked up in the root. */
const BRIDGE_ID = '/@vm-cache-preview-bridge';

function injectBridge(): Plugin {
  return {
    name: 'vm-cache-preview-bridge',
    // 'pre': the id is answered here, before Vite's resolver tries it as a file in renderer/.
    enforce: 'pre',
    resolveId: (id) => (id === BRIDGE_ID ? BRIDGE_FILE : undefined),
    transformIndexHtml: {
      // 'pre': before Vite bundles the page's scripts, so the bridge is bundled too
      // and runs ahead of main.ts (module scripts run in document order).
      order: 'pre',
      handler: () => [{ tag: 'script', attrs: { type: 'module', src: BRIDGE_ID }, injectTo: 'head-prepend' }],
    },
  };
}

export function previewViteConfig(outDir: string = DEFAULT_OUT_DIR): UserConfig {
  return pagesViteConfig(outDir, [injectBridge()]);
}

export default defineConfig(previewViteConfig());
