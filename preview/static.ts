// Serves the built renderer: files under one folder, nothing else, never a
// directory listing, never a path that climbs out of it.
import { createReadStream, promises as fs } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

export function sendText(res: ServerResponse, status: number, text: string, type = 'text/plain'): void {
  res.writeHead(status, {
    'content-type': `${type}; charset=utf-8`,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

/** Sends `<dir>/<pathname>`; false when no such file (the caller answers 404). */
export async function sendFile(
  dir: string,
  pathname: string,
  res: ServerResponse,
  extraHeaders: Record<string, string> = {},
): Promise<boolean> {
  let relative: string;
  try {
    relative = decodeURIComponent(pathname).replace(/^\/+/, '');
  } catch {
    return false;
  }
  const file = path.resolve(dir, relative);
  if (file !== dir && !file.startsWith(dir + path.sep)) return false;
  const type = TYPES[path.extname(file).toLowerCase()];
  if (!type) return false;
  const st = await fs.stat(file).catch(() => undefined);
  if (!st?.isFile()) return false;
  res.writeHead(200, {
    'content-type': type,
    'content-length': st.size,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...(type.startsWith('text/html') ? extraHeaders : {}),
  });
  createReadStream(file).pipe(res);
  return true;
}
