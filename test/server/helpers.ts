// Small helpers for the artifact server tests: hashing, and raw HTTP requests for
// paths fetch() would normalise (e.g. '..' segments) before sending.

import { createHash } from 'node:crypto';
import { request } from 'node:http';

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function bytes(res: Response): Promise<Buffer> {
  return Buffer.from(await res.arrayBuffer());
}

/** GET with the path sent exactly as written. */
export function rawGet(baseUrl: string, rawPath: string): Promise<{ status: number; body: Buffer }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path: rawPath, method: 'GET', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Reads a body until it fails or ends; returns what arrived and whether it ended
 * cleanly, so a test can compare client-received bytes with the server's count.
 */
export async function readUntilError(res: Response): Promise<{ received: Buffer; error: unknown }> {
  const chunks: Uint8Array[] = [];
  const reader = res.body?.getReader();
  if (!reader) return { received: Buffer.alloc(0), error: undefined };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    return { received: Buffer.concat(chunks), error: undefined };
  } catch (error) {
    return { received: Buffer.concat(chunks), error };
  }
}
