// Where the plugin's pages come from: its own scheme serving the built
// renderer folder (vm-cache://pages/), file:// as the fallback when the
// scheme could not be registered in time, or electron-vite's dev server in
// this repository's `npm run dev`. The sender policy and the request filter
// both derive from this one answer, and allow that source only.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PAGES_ORIGIN } from './pages-scheme.js';

export type PageName = 'first-run' | 'settings';

export interface PageSource {
  /** Folder holding first-run.html and settings.html (the built renderer). */
  rendererDir: string;
  /** A dev server for this repository's pages (setup's devServerUrl, never when packaged); when set, pages load from it. */
  devServerUrl?: string | undefined;
  /** The folder is served as vm-cache://pages/ (the scheme is registered); else it loads from file://. */
  scheme?: boolean;
}

export type PageLocation = { kind: 'file'; path: string } | { kind: 'url'; url: string };

export function pageLocation(source: PageSource, name: PageName): PageLocation {
  if (source.devServerUrl)
    return { kind: 'url', url: new URL(`${name}.html`, withSlash(source.devServerUrl)).href };
  if (source.scheme) return { kind: 'url', url: `${PAGES_ORIGIN}/${name}.html` };
  return { kind: 'file', path: path.join(source.rendererDir, `${name}.html`) };
}

/** What defaultSenderPolicy accepts for these pages: the one place they load from. */
export function pageOrigins(source: PageSource): string[] {
  if (source.devServerUrl) return [new URL(source.devServerUrl).origin];
  if (source.scheme) return [PAGES_ORIGIN];
  return [withSlash(pathToFileURL(source.rendererDir).href)];
}

/** May a page in the plugin's session load this URL? Its own files and the dev server; nothing remote. */
export function isPageResource(source: PageSource, url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === 'data:' || parsed.protocol === 'devtools:') return true;
  if (source.devServerUrl) {
    const dev = new URL(source.devServerUrl);
    const devWs = `${dev.protocol === 'https:' ? 'wss:' : 'ws:'}//${dev.host}`;
    return parsed.origin === dev.origin || `${parsed.protocol}//${parsed.host}` === devWs;
  }
  if (source.scheme) return `${parsed.protocol}//${parsed.host}` === PAGES_ORIGIN;
  if (parsed.protocol === 'file:')
    return parsed.href.startsWith(withSlash(pathToFileURL(source.rendererDir).href));
  return false;
}

/**
 * A dev server is this machine's (electron-vite's, on localhost): a window
 * with the plugin's preload must never be pointed at another host, whatever
 * an environment variable says. Throws, naming the URL, otherwise.
 */
export function assertLocalDevServer(url: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  const local =
    parsed !== undefined &&
    (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
    parsed.username === '' &&
    parsed.password === '' &&
    isLoopbackHost(parsed.hostname);
  if (!local) {
    throw new Error(
      `electron-vm-cache: devServerUrl ${JSON.stringify(url.slice(0, 200))} is not a dev server on this machine; ` +
        'it must be http(s)://localhost, 127.x.x.x or [::1] (electron-vite sets ELECTRON_RENDERER_URL to one). ' +
        'Leave it unset to load the built pages',
    );
  }
}

function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  // Node's URL has already turned 127.1, 0x7f.1 and the like into dotted decimal.
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
