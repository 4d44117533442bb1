// A host's own build of the plugin's files, empty but present (setup checks
// that they exist), in a temp folder removed after the file's tests.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { PAGE_FILES } from '../../main/electron/package-files.js';

export function hostBuild(prefix: string): { hostOut: string; rendererDir: string; preloadPath: string } {
  const hostOut = mkdtempSync(path.join(os.tmpdir(), prefix));
  const rendererDir = path.join(hostOut, 'renderer');
  const preloadPath = path.join(hostOut, 'preload', 'index.cjs');
  for (const file of [preloadPath, ...PAGE_FILES.map((name) => path.join(rendererDir, name))]) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '');
  }
  afterAll(() => rmSync(hostOut, { recursive: true, force: true }));
  return { hostOut, rendererDir, preloadPath };
}
