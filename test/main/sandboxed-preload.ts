// Runs a built preload file as Electron runs a sandboxed preload: a CommonJS
// script whose `require` knows `electron` and nothing else, with stand-ins for
// contextBridge and ipcRenderer that record what it exposes and invokes.
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { expect } from 'vitest';
import { INVOKE } from '../../contract/api.js';

/** window.vmCache's calls, sorted. */
export const VM_CACHE_CALLS = [
  'cancel',
  'clear',
  'getLimitRate',
  'getSettings',
  'getStatus',
  'moveCache',
  'onProgress',
  'pause',
  'resume',
  'setAutoUpdate',
  'setLimitRate',
  'sync',
  'verify',
];

export interface SandboxedPreload {
  /** Every module the script asked `require` for, in order. */
  required: string[];
  /** Each exposeInMainWorld(key, api), in order. */
  exposed: Array<[string, Record<string, unknown>]>;
  /** The channels ipcRenderer.invoke was called with. */
  invoked: string[];
  /** The arguments of each of those calls, after the channel. */
  invokedArgs: unknown[][];
}

export function runSandboxedPreload(file: string): SandboxedPreload {
  const run: SandboxedPreload = { required: [], exposed: [], invoked: [], invokedArgs: [] };
  const electron = {
    contextBridge: {
      exposeInMainWorld: (key: string, api: Record<string, unknown>) => run.exposed.push([key, api]),
    },
    ipcRenderer: {
      invoke: async (channel: string, ...args: unknown[]) => {
        run.invoked.push(channel);
        run.invokedArgs.push(args);
        return { ok: true, value: null };
      },
      on() {},
      removeListener() {},
    },
  };
  const sandboxRequire = (name: string) => {
    run.required.push(name);
    if (name === 'electron') return electron;
    throw new Error(`module not found: ${name}`);
  };
  // A fresh context: the script sees no Node globals but what it is handed.
  const wrapper = vm.runInNewContext(
    `(function (require, module, exports) {${readFileSync(file, 'utf8')}\n})`,
    {
      Promise,
    },
  );
  const module = { exports: {} };
  wrapper(sandboxRequire, module, module.exports);
  return run;
}

/** What every built preload must do: require only electron, expose vmCache alone with its eight calls, which invoke. */
export async function expectVmCacheOnly(file: string): Promise<void> {
  const run = runSandboxedPreload(file);
  expect(run.required).toEqual(['electron']);
  expect(run.exposed.map(([key]) => key)).toEqual(['vmCache']);
  const api = run.exposed[0]![1];
  expect(Object.keys(api).sort()).toEqual(VM_CACHE_CALLS);
  await (api.sync as (...args: unknown[]) => Promise<unknown>)('smuggled');
  await (api.setLimitRate as (...args: unknown[]) => Promise<unknown>)(2048, 'smuggled');
  expect(run.invoked).toEqual([INVOKE.sync.channel, INVOKE.setLimitRate.channel]);
  expect(run.invokedArgs).toEqual([[], [2048]]);
}
