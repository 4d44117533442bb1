// VmCacheApi over a WebSocket: what the browser preview (and any page served
// outside Electron) uses instead of the preload: the contract's one API
// factory on a WebSocket transport. Same calls, same Result shapes, same
// progress events; only the transport differs. Browser code of the preview
// tool, not of the package: it uses the plugin through its public contract
// entry (contract/index.ts, electron-vm-cache/contract) only.
//   page -> server: { id, channel, args }
//   server -> page: { id, result }  or  { channel: 'vm-cache:progress', payload }

import {
  type ApiTransport,
  CHANNELS,
  createApiClient,
  PROGRESS_CHANNEL,
  type ProgressListener,
  type Result,
  type SyncProgress,
  type VmCacheApi,
} from '../../contract/index.js';

const RECONNECT_MS = 1000;

function closedFailure(): Result<never> {
  return { ok: false, code: 'ERR_INTERNAL', message: 'the connection to the preview server closed' };
}

export function createWebSocketApi(url: string): VmCacheApi {
  return createApiClient(webSocketTransport(url));
}

function webSocketTransport(url: string): ApiTransport {
  let socket: WebSocket | undefined;
  let nextId = 1;
  const pending = new Map<number, (result: Result<unknown>) => void>();
  let deliver: ProgressListener | undefined;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** The connection closed while the page listened: the next one subscribes again. */
  let resubscribe = false;

  function open(): WebSocket {
    if (socket && socket.readyState <= WebSocket.OPEN) return socket;
    const ws = new WebSocket(url);
    socket = ws;
    ws.addEventListener('message', (event) => onMessage(event.data));
    ws.addEventListener('open', () => {
      // A reconnect (the server restarted): the page still listens, so subscribe again.
      if (resubscribe && deliver) void invoke(CHANNELS.subscribe, []);
      resubscribe = false;
    });
    ws.addEventListener('close', () => {
      if (socket === ws) socket = undefined;
      for (const resolve of pending.values()) resolve(closedFailure());
      pending.clear();
      if (deliver) resubscribe = true;
      if (deliver && !reconnectTimer) {
        reconnectTimer = setTimeout(() => {
          reconnectTimer = undefined;
          if (deliver) open();
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
      deliver?.(message.payload as SyncProgress);
      return;
    }
    if (typeof message.id === 'number') {
      const resolve = pending.get(message.id);
      pending.delete(message.id);
      resolve?.(message.result as Result<unknown>);
    }
  }

  function invoke(channel: string, args: readonly unknown[]): Promise<Result<unknown>> {
    const ws = open();
    const id = nextId++;
    const frame = JSON.stringify({ id, channel, args });
    return new Promise<Result<unknown>>((resolve) => {
      pending.set(id, resolve);
      if (ws.readyState === WebSocket.OPEN) ws.send(frame);
      else ws.addEventListener('open', () => ws.send(frame), { once: true });
    });
  }

  return {
    invoke,
    listen(onProgress) {
      deliver = onProgress;
      return () => {
        deliver = undefined;
      };
    },
  };
}
