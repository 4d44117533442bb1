// The one VmCacheApi factory, over an in-memory transport that records what
// it is asked to do: the page-facing behaviour both the preload (IPC) and the
// preview (WebSocket) now share.
import { describe, expect, it } from 'vitest';
import { type ApiTransport, createApiClient } from '../../contract/api-client.js';
import { CHANNELS } from '../../contract/channels.js';
import type { SyncProgress } from '../../contract/progress.js';

function memoryTransport() {
  const log: string[] = [];
  let deliver: ((p: SyncProgress) => void) | undefined;
  const transport: ApiTransport = {
    async invoke(channel, args, ...rest: unknown[]) {
      const sent = args.length > 0 ? ` ${JSON.stringify(args)}` : '';
      log.push(`invoke ${channel}${sent}${rest.length ? ` and ${rest.length} more` : ''}`);
      return { ok: true, value: { channel } };
    },
    listen(d) {
      log.push('listen');
      deliver = d;
      return () => {
        log.push('stop');
        deliver = undefined;
      };
    },
  };
  return { transport, log, send: (p: Partial<SyncProgress>) => deliver?.(p as SyncProgress) };
}

describe('createApiClient', () => {
  it('each call but the two setters is one invoke on its channel, with no arguments, whatever the page passes', async () => {
    const { transport, log } = memoryTransport();
    const api = createApiClient(transport);
    // What a page may do: call it with arguments it does not declare.
    const call: (...args: unknown[]) => Promise<unknown> = api.getStatus;
    expect(await call('smuggled', { x: 1 })).toEqual({ ok: true, value: { channel: CHANNELS.getStatus } });
    await api.sync();
    await api.cancel();
    await api.verify();
    await api.clear();
    await (api.getLimitRate as (...args: unknown[]) => Promise<unknown>)(5_000_000);
    await api.getSettings();
    // A page cannot name the folder a move goes to: the main side's picker asks the user.
    await (api.moveCache as (...args: unknown[]) => Promise<unknown>)('/etc');
    expect(log).toEqual(
      ['getStatus', 'sync', 'cancel', 'verify', 'clear', 'getLimitRate', 'getSettings', 'moveCache'].map(
        (n) => `invoke ${CHANNELS[n as keyof typeof CHANNELS]}`,
      ),
    );
  });

  it('setLimitRate sends its one argument, a number or null, and nothing more', async () => {
    const { transport, log } = memoryTransport();
    const api = createApiClient(transport);
    const call = api.setLimitRate as (...args: unknown[]) => Promise<unknown>;
    await api.setLimitRate(5_000_000);
    await api.setLimitRate(null);
    await call(2048, 'smuggled', { x: 1 });
    // The main side judges the value (this one is below the minimum): the client passes it on.
    await api.setLimitRate(10);
    expect(log).toEqual([
      `invoke ${CHANNELS.setLimitRate} [5000000]`,
      `invoke ${CHANNELS.setLimitRate} [null]`,
      `invoke ${CHANNELS.setLimitRate} [2048]`,
      `invoke ${CHANNELS.setLimitRate} [10]`,
    ]);
  });

  it('setLimitRate refuses, without sending, what JSON would turn into null ("no limit") or garbage', async () => {
    const { transport, log } = memoryTransport();
    const api = createApiClient(transport);
    const call = api.setLimitRate as (...args: unknown[]) => Promise<unknown>;
    for (const bad of [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      undefined,
      '5M',
      {},
      [2048],
      2048n,
    ]) {
      expect(await call(bad), String(bad)).toEqual({
        ok: false,
        code: 'ERR_INVALID_REQUEST',
        message: `${CHANNELS.setLimitRate}: bytesPerSecond must be a number, or null for no limit`,
      });
    }
    expect(await call()).toMatchObject({ ok: false, code: 'ERR_INVALID_REQUEST' });
    expect(log).toEqual([]);
  });

  it('setAutoUpdate sends a boolean and nothing else: "yes", 1 or a missing argument never cross', async () => {
    const { transport, log } = memoryTransport();
    const api = createApiClient(transport);
    const call = api.setAutoUpdate as (...args: unknown[]) => Promise<unknown>;
    await api.setAutoUpdate(false);
    await call(true, 'smuggled');
    for (const bad of [undefined, 'yes', 1, 0, null, {}, [true]]) {
      expect(await call(bad), String(bad)).toEqual({
        ok: false,
        code: 'ERR_INVALID_REQUEST',
        message: `${CHANNELS.setAutoUpdate}: enabled must be true or false`,
      });
    }
    expect(log).toEqual([
      `invoke ${CHANNELS.setAutoUpdate} [false]`,
      `invoke ${CHANNELS.setAutoUpdate} [true]`,
    ]);
  });

  it('one listen and one subscription for many listeners (listening first); the last unsubscribe stops both', () => {
    const { transport, log, send } = memoryTransport();
    const api = createApiClient(transport);
    const a: string[] = [];
    const b: string[] = [];
    const offA = api.onProgress((p) => a.push(p.phase));
    const offB = api.onProgress((p) => b.push(p.phase));
    expect(log).toEqual(['listen', `invoke ${CHANNELS.subscribe}`]);
    send({ phase: 'downloading' });
    offA();
    offA();
    send({ phase: 'done' });
    expect(a).toEqual(['downloading']);
    expect(b).toEqual(['downloading', 'done']);
    offB();
    expect(log).toEqual(['listen', `invoke ${CHANNELS.subscribe}`, 'stop', `invoke ${CHANNELS.unsubscribe}`]);
  });

  it('a listener that throws does not starve the others; the same function twice is two registrations', () => {
    const { transport, send } = memoryTransport();
    const api = createApiClient(transport);
    const seen: string[] = [];
    const listener = (p: SyncProgress) => seen.push(p.phase);
    api.onProgress(() => {
      throw new Error('broken page code');
    });
    const off1 = api.onProgress(listener);
    api.onProgress(listener);
    send({ phase: 'checking' });
    off1();
    send({ phase: 'done' });
    expect(seen).toEqual(['checking', 'checking', 'done']);
    // @ts-expect-error not a function, on purpose: a page may pass anything
    expect(() => api.onProgress('nope')).toThrow('expects a function');
  });
});
