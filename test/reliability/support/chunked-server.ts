// A server the artifact server cannot be: it streams a 50 MB "manifest" with
// chunked encoding, so no Content-Length warns the client; only counting the
// bytes as they come can stop it. It reports how much it managed to send.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChunkedServer {
  manifestUrl: string;
  /** Body bytes the socket accepted. */
  bytesSent(): number;
  /** Resolves once the response is over (the client hung up, or all was sent): bytesSent() is final. */
  finished(): Promise<void>;
  close(): Promise<void>;
}

export async function chunkedManifestServer(totalBytes: number): Promise<ChunkedServer> {
  let sent = 0;
  let markFinished!: () => void;
  const finished = new Promise<void>((resolve) => {
    markFinished = resolve;
  });
  const piece = Buffer.alloc(256 * 1024, 0x20);
  const server: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"schemaVersion":2,"padding":"');
    let left = totalBytes;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, piece.length);
        left -= n;
        const counted = (err?: Error | null) => {
          if (!err) sent += n;
        };
        if (!res.write(piece.subarray(0, n), counted)) return void res.once('drain', pump);
      }
      res.end('"}');
    };
    res.on('close', () => {
      left = 0;
      markFinished();
    });
    req.resume();
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    manifestUrl: `http://127.0.0.1:${port}/vm/manifest.json`,
    bytesSent: () => sent,
    finished: () => finished,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
