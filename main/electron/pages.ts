// Where the plugin's pages come from: the built renderer folder (file://), or
// electron-vite's dev server in `npm run dev`. The sender policy and the
// request filter both derive from this one answer.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export type PageName = 'first-run' | 'settings';

export interface PageSource {
  /** Folder holding first-run.html and settings.html (the built renderer). */
  rendererDir: string;
  /** A dev server for this repository's pages (setup's devServerUrl, never when packaged); when set, pages load from it. */
  devServerUrl?: string | undefined;
}

export type PageLocation = { kind: 'file'; path: string } | { kind: 'url'; url: string };

export function pageLocation(source: PageSource, name: PageName): PageLocation {
  if (source.devServerUrl)
    return { kind: 'url', url: new URL(`${name}.html`, withSlash(source.devServerUrl)).href };
  return { kind: 'file', path: path.join(source.rendererDir, `${name}.html`) };
}

/** What defaultSenderPolicy accepts for these pages: the renderer folder's file URL prefix, the dev origin. */
export function pageOrigins(source: PageSource): string[] {
  const origins = [withSlash(pathToFileURL(source.rendererDir).href)];
  if (source.devServerUrl) origins.push(new URL(source.devServerUrl).origin);
  return origins;
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
  if (parsed.protocol === 'file:')
    return parsed.href.startsWith(withSlash(pathToFileURL(source.rendererDir).href));
  if (source.devServerUrl) {
    const dev = new URL(source.devServerUrl);
    const devWs = `${dev.protocol === 'https:' ? 'wss:' : 'ws:'}//${dev.host}`;
    return parsed.origin === dev.origin || `${parsed.protocol}//${parsed.host}` === devWs;
  }
  return false;
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
