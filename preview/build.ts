// Builds the renderer for the preview (a plain Vite build; see vite.config.ts).
import { build } from 'vite';
import { previewViteConfig } from './vite.config.js';

export async function buildRenderer(outDir: string): Promise<string> {
  // configFile: false: the config is this object; no vite.config.* is looked up from the cwd.
  await build({ ...previewViteConfig(outDir), configFile: false });
  return outDir;
}
