// The preload, loaded as Electron would load it but with stand-ins for
// contextBridge and ipcRenderer: exactly one key exposed, the calls match the
// contract's INVOKE table, and the IPC event never reaches the page.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { INVOKE, type InvokeName, PROGRESS_CHANNEL, type VmCacheApi } from '../../contract/api.js';

const bridge = vi.hoisted(() => {
  const exposed: Array<[string, unknown]> = [];
  const log: Array<{ op: string; channel: string; args: unknown[] }> = [];
  const listeners = new Map<string, Set<(...args: unknown[]) => void>>();
  const ipcRenderer = {
    invoke: (channel: string, ...args: unknown[]) => {
      log.push({ op: 'invoke', channel, args });
      return Promise.resolve({ ok: true, value: `answer to ${channel}` });
    },
    on: (channel: string, listener: (...args: unknown[]) => void) => {
      log.push({ op: 'on', channel, args: [] });
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)!.add(listener);
    },
    removeListener: (channel: string, listener: (...args: unknown[]) => void) => {
      log.push({ op: 'removeListener', channel, args: [] });
      listeners.get(channel)?.delete(listener);
    },
    // What Electron does when main sends on a channel: the event object first.
    emit: (channel: string, payload: unknown) => {
      const event = { sender: 'ipcRenderer', senderId: 0, ports: [] };
      for (const l of listeners.get(channel) ?? []) l(event, payload);
    },
    count: (channel: string) => listeners.get(channel)?.size ?? 0,
  };
  return {
    exposed,
    log,
    ipcRenderer,
    contextBridge: { exposeInMainWorld: (k: string, v: unknown) => exposed.push([k, v]) },
  };
});

vi.mock('electron', () => ({ contextBridge: bridge.contextBridge, ipcRenderer: bridge.ipcRenderer }));

let api: VmCacheApi;

beforeAll(async () => {
  await import('../../preload/index.js');
  api = bridge.exposed[0]![1] as VmCacheApi;
});

const PAGE_CALLS = (Object.keys(INVOKE) as InvokeName[]).filter(
  (n) => n !== 'subscribe' && n !== 'unsubscribe',
);

describe('preload', () => {
  it('exposes exactly one key, vmCache', () => {
    expect(bridge.exposed.map(([key]) => key)).toEqual(['vmCache']);
  });

  it('offers the INVOKE table’s page calls plus onProgress, all functions, nothing else', () => {
    expect(Object.keys(api).sort()).toEqual([...PAGE_CALLS, 'onProgress'].sort());
    for (const value of Object.values(api)) expect(typeof value).toBe('function');
  });

  it('each call invokes its contract channel and forwards no arguments from the page', async () => {
    for (const name of PAGE_CALLS.filter((n) => n !== 'setLimitRate' && n !== 'setAutoUpdate')) {
      bridge.log.length = 0;
      const call = api[name] as (...args: unknown[]) => Promise<unknown>;
      expect(await call('smuggled', { evil: true })).toEqual({
        ok: true,
        value: `answer to ${INVOKE[name].channel}`,
      });
      expect(bridge.log).toEqual([{ op: 'invoke', channel: INVOKE[name].channel, args: [] }]);
    }
  });

  it('setLimitRate forwards its one argument over IPC, nothing after it, and sends no garbage at all', async () => {
    bridge.log.length = 0;
    const call = api.setLimitRate as (...args: unknown[]) => Promise<unknown>;
    expect(await call(5_000_000, 'smuggled', { evil: true })).toEqual({
      ok: true,
      value: `answer to ${INVOKE.setLimitRate.channel}`,
    });
    await call(null);
    expect(await call(Number.NaN)).toMatchObject({ ok: false, code: 'ERR_INVALID_REQUEST' });
    expect(await call({ valueOf: () => 5_000_000 })).toMatchObject({
      ok: false,
      code: 'ERR_INVALID_REQUEST',
    });
    expect(bridge.log).toEqual([
      { op: 'invoke', channel: INVOKE.setLimitRate.channel, args: [5_000_000] },
      { op: 'invoke', channel: INVOKE.setLimitRate.channel, args: [null] },
    ]);
  });

  it('onProgress: listens before subscribing, hands the payload only, and subscribes once', () => {
    bridge.log.length = 0;
    const a: unknown[][] = [];
    const b: unknown[][] = [];
    const offA = api.onProgress((...args: unknown[]) => a.push(args));
    expect(bridge.log).toEqual([
      { op: 'on', channel: PROGRESS_CHANNEL, args: [] },
      { op: 'invoke', channel: INVOKE.subscribe.channel, args: [] },
    ]);
    const offB = api.onProgress((...args: unknown[]) => b.push(args));
    expect(bridge.log).toHaveLength(2);

    const payload = { phase: 'downloading', receivedBytes: 5 };
    bridge.ipcRenderer.emit(PROGRESS_CHANNEL, payload);
    // Exactly one argument, the payload: no event, no sender, no ipcRenderer.
    expect(a).toEqual([[payload]]);
    expect(b).toEqual([[payload]]);

    offA();
    offA();
    expect(bridge.ipcRenderer.count(PROGRESS_CHANNEL)).toBe(1);
    expect(bridge.log).toHaveLength(2);
    bridge.ipcRenderer.emit(PROGRESS_CHANNEL, payload);
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(2);

    offB();
    expect(bridge.ipcRenderer.count(PROGRESS_CHANNEL)).toBe(0);
    expect(bridge.log.slice(2)).toEqual([
      { op: 'removeListener', channel: PROGRESS_CHANNEL, args: [] },
      { op: 'invoke', channel: INVOKE.unsubscribe.channel, args: [] },
    ]);
  });

  it('a throwing listener does not starve the others; the same function twice unsubscribes one at a time', () => {
    const got: unknown[] = [];
    const listener = (p: unknown) => got.push(p);
    const offBroken = api.onProgress(() => {
      throw new Error('page bug');
    });
    const off1 = api.onProgress(listener);
    const off2 = api.onProgress(listener);
    bridge.ipcRenderer.emit(PROGRESS_CHANNEL, 1);
    expect(got).toEqual([1, 1]);
    off1();
    bridge.ipcRenderer.emit(PROGRESS_CHANNEL, 2);
    expect(got).toEqual([1, 1, 2]);
    off2();
    offBroken();
    expect(bridge.ipcRenderer.count(PROGRESS_CHANNEL)).toBe(0);
  });

  it('refuses a non-function listener without subscribing', () => {
    bridge.log.length = 0;
    // @ts-expect-error not a function, on purpose: a page may pass anything
    expect(() => api.onProgress('nope')).toThrow(TypeError);
    expect(bridge.log).toEqual([]);
  });
});
