// Text that breaks a host's bundle although it is only a comment: when a host
// bundles the plugin into an ES module that uses require, electron-vite's ESM
// shim finds the last import statement with a regular expression and pastes
// its shim right after it. The expression also takes `import` followed by a
// quote (as in "an import's files"), or `import <words> from '`, in a comment
// or a string for a statement, and the shim lands in the middle of the line.
// test/package found it; this finds it in seconds.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '../..');
// The shape of electron-vite's expression (its ESMStaticImportRe), on one line.
const LOOKS_LIKE_AN_IMPORT = /(?<=\s|^|;)import\s*([\s"']*[\p{L}\p{M}\w\t $*,/{}@.]+from\s*)?["']/u;
// What a host's bundler reads: the plugin's own folders.
const PLUGIN = ['contract', 'main', 'preload', 'renderer'];

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(REPO, dir), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(REPO, path.join(e.parentPath, e.name)));
}

describe('bundler traps in the plugin sources', () => {
  it('no line but an import statement looks like one to that expression', async () => {
    const found: string[] = [];
    for (const dir of PLUGIN) {
      for (const file of await sources(dir)) {
        const lines = (await readFile(path.join(REPO, file), 'utf8')).split('\n');
        lines.forEach((line, i) => {
          if (/^\s*(import|export)\s/.test(line)) return;
          if (LOOKS_LIKE_AN_IMPORT.test(line)) found.push(`${file}:${i + 1}: ${line.trim()}`);
        });
      }
    }
    expect(found).toEqual([]);
  });
});
