// The Content-Security-Policy of the plugin's pages, sent as a response header
// (by the pages' scheme handler and, for every response of the plugin's
// session, by onHeadersReceived). Nothing remote, nothing inline, no network
// from the page at all: the page talks to main over IPC only. The pages also
// carry PAGE_META_POLICY in a <meta>; where both apply, a load must pass both.
// Plain strings, so the Electron layer and the browser preview serve the same
// policy (main/electron/session.ts installs it on the plugin's session).

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * What renderer/*.html carry in their <meta>, for wherever the header is not
 * sent (the file:// fallback, the built pages opened some other way): the
 * same, except that a page may connect back to its own origin ('self'; the
 * browser preview's bridge socket and Vite's hot-reload socket are served
 * there, and 'self' covers ws: to the same host and port), and without
 * frame-ancestors, which a <meta> cannot set. In the app the header applies
 * as well, so connect-src is 'none' there. No other host, not even a local one.
 */
export const PAGE_META_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
].join('; ');

/**
 * The policy for a given page source. Only with electron-vite's dev server
 * (`devServerUrl`) does the page need a connection: Vite's hot-reload socket.
 */
export function contentSecurityPolicy(devServerUrl?: string): string {
  if (!devServerUrl) return CONTENT_SECURITY_POLICY;
  const http = new URL(devServerUrl);
  const ws = `${http.protocol === 'https:' ? 'wss:' : 'ws:'}//${http.host}`;
  return CONTENT_SECURITY_POLICY.replace("connect-src 'none'", `connect-src 'self' ${ws}`);
}
