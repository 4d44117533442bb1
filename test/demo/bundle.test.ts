// The demo's main bundle (out/demo/main.js, from `electron-vite build`, which
// npm test runs first): an ES module that imports only electron, Node
// built-ins and the package's production dependencies; the rest is inside.
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '../..');
const mainFile = path.join(REPO, 'out', 'demo', 'main.js');

describe('the demo’s main bundle', () => {
  it('is an ES module that imports only electron, Node built-ins and production dependencies', () => {
    if (!existsSync(mainFile)) throw new Error('out/demo is not built: run `npm run build:demo` first');
    const code = readFileSync(mainFile, 'utf8');
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      scripts: Record<string, string>;
    };
    // `npm start` launches this very file.
    expect(pkg.scripts.start).toContain('--entry out/demo/main.js');
    const specifiers = [...code.matchAll(/^import\s+(?:[^'"]*from\s+)?["']([^"']+)["'];?$/gm)].map(
      (m) => m[1]!,
    );
    expect(specifiers).toContain('electron');
    const allowed = (s: string) =>
      s === 'electron' ||
      s.startsWith('node:') ||
      builtinModules.includes(s) ||
      Object.keys(pkg.dependencies).some((d) => s === d || s.startsWith(`${d}/`));
    expect(specifiers.filter((s) => !allowed(s))).toEqual([]);
    expect(code).not.toMatch(/\brequire\(/);
  });
});
