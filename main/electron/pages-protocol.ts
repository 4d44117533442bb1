// The handler behind `vm-cache://pages/...`: it answers with files of the
// pages folder and nothing else. The URL's path is decoded, resolved against
// the folder and checked to stay inside it, so `..`, its percent-escapes,
// encoded slashes and backslashes cannot climb out; only the page's own kinds
// of file are served, each with the pages' Content-Security-Policy.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PAGES_HOST, PAGES_SCHEME } from './pages-scheme.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/**
 * The file a pages URL names inside `rendererDir`, or undefined when it names
 * nothing there (another scheme or host, an escape, a kind of file a page
 * does not load). Lexical only: the folder is the package's own.
 */
export function pageFileFor(rendererDir: string, url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== `${PAGES_SCHEME}:` || parsed.host !== PAGES_HOST) return undefined;
  let relative: string;
  try {
    relative = decodeURIComponent(parsed.pathname);
  } catch {
    return undefined;
  }
  // A backslash is a separator on Windows and a NUL ends a path in C: neither is in a page's name.
  if (relative.includes('\\') || relative.includes('\0')) return undefined;
  const dir = path.resolve(rendererDir);
  const file = path.resolve(dir, `.${path.posix.sep}${relative.replace(/^\/+/, '')}`);
  if (!file.startsWith(dir + path.sep)) return undefined;
  if (!Object.hasOwn(TYPES, path.extname(file).toLowerCase())) return undefined;
  return file;
}

export function pagesProtocolHandler(
  rendererDir: string,
  contentSecurityPolicy: string,
): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return notFound(405);
    const file = pageFileFor(rendererDir, request.url);
    if (!file) return notFound();
    let body: Buffer;
    try {
      const st = await fs.stat(file);
      if (!st.isFile()) return notFound();
      body = await fs.readFile(file);
    } catch {
      return notFound();
    }
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
      status: 200,
      headers: {
        'content-type': TYPES[path.extname(file).toLowerCase()]!,
        'content-length': String(body.length),
        'content-security-policy': contentSecurityPolicy,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
      },
    });
  };
}

function notFound(status = 404): Response {
  return new Response(null, { status });
}
