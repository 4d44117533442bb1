// The built bundles (after `npx electron-vite build`): the preload must run as
// a sandboxed preload does, a CommonJS script whose `require` knows only
// Electron's few built-ins, so zod and the contract have to be inside it.
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { INVOKE } from '../../contract/api.js';

const out = path.resolve(import.meta.dirname, '../../out');
const preloadFile = path.join(out, 'preload', 'index.cjs');
const mainFile = path.join(out, 'main', 'index.js');
const built = existsSync(preloadFile) && existsSync(mainFile);

describe.skipIf(!built)('built bundles (run `npx electron-vite build` first)', () => {
  it('the preload runs with a sandbox-style require that offers only electron, and exposes vmCache alone', async () => {
    const code = readFileSync(preloadFile, 'utf8');
    const exposed: Array<[string, Record<string, unknown>]> = [];
    const invoked: string[] = [];
    const required: string[] = [];
    const electron = {
      contextBridge: {
        exposeInMainWorld: (key: string, api: Record<string, unknown>) => exposed.push([key, api]),
      },
      ipcRenderer: {
        invoke: async (channel: string) => {
          invoked.push(channel);
          return { ok: true, value: null };
        },
        on() {},
        removeListener() {},
      },
    };
    const sandboxRequire = (name: string) => {
      required.push(name);
      if (name === 'electron') return electron;
      throw new Error(`module not found: ${name}`);
    };
    const wrapper = vm.runInNewContext(`(function (require, module, exports) {${code}\n})`, {});
    const module = { exports: {} };
    wrapper(sandboxRequire, module, module.exports);
    expect(required).toEqual(['electron']);
    expect(exposed.map(([key]) => key)).toEqual(['vmCache']);
    const api = exposed[0]![1];
    await (api.sync as () => Promise<unknown>)();
    expect(invoked).toEqual([INVOKE.sync.channel]);
  });

  it('the main bundle is an ES module that imports only electron, Node built-ins and production dependencies', () => {
    const code = readFileSync(mainFile, 'utf8');
    const pkg = JSON.parse(readFileSync(path.resolve(out, '..', 'package.json'), 'utf8')) as {
      main: string;
      dependencies: Record<string, string>;
    };
    expect(path.resolve(out, '..', pkg.main)).toBe(mainFile);
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
