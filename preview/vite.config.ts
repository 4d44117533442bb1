// A plain Vite build of the same renderer the Electron app ships (root
// renderer/, the same two pages), for the browser preview. The only
// difference: each page gets the WebSocket bridge as its first module, so
// window.vmCache exists before the panel connects. Electron's build
// (electron.vite.config.ts) never sees the bridge.
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin, type Rollup, type UserConfig } from 'vite';

export const RENDERER_DIR = fileURLToPath(new URL('../renderer/', import.meta.url));
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

/** zod's sources carry comments Rollup reports on every build; they are not ours to fix. */
function quietWarnings(warning: Rollup.RollupLog, warn: (w: Rollup.RollupLog) => void): void {
  if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('node_modules')) return;
  warn(warning);
}

export function previewViteConfig(outDir: string = DEFAULT_OUT_DIR): UserConfig {
  return {
    root: RENDERER_DIR,
    base: './',
    logLevel: 'warn',
    plugins: [injectBridge()],
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

export default defineConfig(previewViteConfig());
