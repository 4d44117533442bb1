// The Node end of the WebSocket bridge: each connection is one sender for the
// same VmCacheHub the Electron app uses, so sender checks, zod validation,
// throttling and late-subscriber snapshots are the real ones.
//   page -> here: { id, channel, args }   here -> page: { id, result }
//   progress: { channel: 'vm-cache:progress', payload }
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Result } from '../contract/index.js';
import type { SenderInfo, VmCacheHub } from '../main/service/index.js';

export const BRIDGE_PATH = '/vm-cache-bridge';

/** Requests are tiny (a channel name and [] or one number); anything large is not ours. */
const MAX_MESSAGE_BYTES = 64 * 1024;

export interface BridgeOptions {
  hub: VmCacheHub;
  /** Origins whose pages may connect (the preview's own). */
  allowedOrigins: ReadonlySet<string>;
  /** Called for every accepted connection (a page opened). */
  onConnection?: () => void;
}

export interface Bridge {
  /** Open connections. */
  readonly connections: number;
  close(): void;
}

function reject(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export function attachBridge(server: Server, options: BridgeOptions): Bridge {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  let nextSender = 1;

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (pathname !== BRIDGE_PATH) return reject(socket, 404, 'Not Found');
    // A browser always sends Origin on a WebSocket handshake: a page of another
    // site (or a non-browser client without one) is turned away here, before
    // the hub's own sender check would refuse each call anyway.
    const origin = req.headers.origin;
    if (!origin || !options.allowedOrigins.has(origin)) return reject(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', onUpgrade);

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const sender: SenderInfo = { id: nextSender++, url: req.headers.origin ?? '', isMainFrame: true };
    options.onConnection?.();
    const send = (channel: string, payload: unknown) => {
      // Throwing tells the hub the receiver is gone, so it drops the subscription.
      if (ws.readyState !== WebSocket.OPEN) throw new Error('socket closed');
      ws.send(JSON.stringify({ channel, payload }));
    };
    const reply = (id: unknown, result: Result<unknown>) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ id, result }));
    };
    ws.on('message', (data, isBinary) => {
      let message: { id?: unknown; channel?: unknown; args?: unknown };
      try {
        if (isBinary) throw new Error('binary frame');
        message = JSON.parse(data.toString());
        if (typeof message !== 'object' || message === null) throw new Error('not an object');
      } catch {
        reply(null, {
          ok: false,
          code: 'ERR_INVALID_REQUEST',
          message: 'expected a JSON {id, channel, args} message',
        });
        return;
      }
      const { id, channel, args } = message;
      if (typeof id !== 'number' || !Number.isSafeInteger(id)) {
        reply(null, { ok: false, code: 'ERR_INVALID_REQUEST', message: 'the message needs a numeric id' });
        return;
      }
      // The hub validates channel and args itself and never throws.
      void options.hub
        .invoke(typeof channel === 'string' ? channel : String(channel), args, sender, send)
        .then((result) => reply(id, result));
    });
    ws.on('close', () => options.hub.dropSender(sender.id));
    ws.on('error', () => ws.terminate());
  });

  return {
    get connections() {
      return wss.clients.size;
    },
    close() {
      server.off('upgrade', onUpgrade);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
