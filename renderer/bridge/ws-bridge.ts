// VmCacheApi over a WebSocket: what the browser preview (and any page served
// outside Electron) uses instead of the preload. Same calls, same Result
// shapes, same progress events; only the transport differs.
//   page -> server: { id, channel, args }
//   server -> page: { id, result }  or  { channel: 'vm-cache:progress', payload }
import type { InvokeName, Result, VmCacheApi } from '../../contract/api.js';
import { CHANNELS, PROGRESS_CHANNEL } from '../../contract/channels.js';
import type { SyncProgress } from '../../contract/progress.js';

type Listener = (progress: SyncProgress) => void;

const RECONNECT_MS = 1000;

function closedFailure(): Result<never> {
  return { ok: false, code: 'ERR_INTERNAL', message: 'the connection to the preview server closed' };
}

export function createWebSocketApi(url: string): VmCacheApi {
  let socket: WebSocket | undefined;
  let nextId = 1;
  const pending = new Map<number, (result: Result<unknown>) => void>();
  const listeners = new Set<Listener>();
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  function open(): WebSocket {
    if (socket && socket.readyState <= WebSocket.OPEN) return socket;
    const ws = new WebSocket(url);
    socket = ws;
    ws.addEventListener('message', (event) => onMessage(event.data));
    ws.addEventListener('open', () => {
      // A reconnect (server restarted): listeners still want progress.
      if (listeners.size > 0) void call('subscribe');
    });
    ws.addEventListener('close', () => {
      if (socket === ws) socket = undefined;
      for (const resolve of pending.values()) resolve(closedFailure());
      pending.clear();
      if (listeners.size > 0 && !reconnectTimer) {
        reconnectTimer = setTimeout(() => {
          reconnectTimer = undefined;
          if (listeners.size > 0) open();
        }, RECONNECT_MS);
      }
    });
    return ws;
  }

  function onMessage(data: unknown): void {
    let message: { id?: unknown; result?: unknown; channel?: unknown; payload?: unknown };
    try {
      message = JSON.parse(String(data));
    } catch {
      return;
    }
    if (message.channel === PROGRESS_CHANNEL) {
      for (const listener of [...listeners]) listener(message.payload as SyncProgress);
      return;
    }
    if (typeof message.id === 'number') {
      const resolve = pending.get(message.id);
      pending.delete(message.id);
      resolve?.(message.result as Result<unknown>);
    }
  }

  function call<T>(name: InvokeName): Promise<Result<T>> {
    const ws = open();
    const id = nextId++;
    const frame = JSON.stringify({ id, channel: CHANNELS[name], args: [] });
    return new Promise<Result<T>>((resolve) => {
      pending.set(id, resolve as (result: Result<unknown>) => void);
      if (ws.readyState === WebSocket.OPEN) ws.send(frame);
      else ws.addEventListener('open', () => ws.send(frame), { once: true });
    });
  }

  return {
    getStatus: () => call('getStatus'),
    sync: () => call('sync'),
    cancel: () => call('cancel'),
    verify: () => call('verify'),
    clear: () => call('clear'),
    onProgress(listener) {
      const wrapped: Listener = (p) => listener(p);
      listeners.add(wrapped);
      // Every subscribe re-sends the in-flight snapshot, so a second listener gets it too.
      void call('subscribe');
      return () => {
        if (!listeners.delete(wrapped)) return;
        if (listeners.size === 0 && socket?.readyState === WebSocket.OPEN) void call('unsubscribe');
      };
    },
  };
}
