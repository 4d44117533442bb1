// The Content-Security-Policy of the plugin's pages, sent as a response header
// (the renderer's pages carry the same policy in a <meta>, which also covers
// file:// loads where a header may not apply). Nothing remote, nothing inline,
// no network from the page at all: the page talks to main over IPC only.
import type { Session } from 'electron';

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
 * The policy for a given page source. Only with electron-vite's dev server
 * (`devServerUrl`) does the page need a connection: Vite's hot-reload socket.
 */
export function contentSecurityPolicy(devServerUrl?: string): string {
  if (!devServerUrl) return CONTENT_SECURITY_POLICY;
  const http = new URL(devServerUrl);
  const ws = `${http.protocol === 'https:' ? 'wss:' : 'ws:'}//${http.host}`;
  return CONTENT_SECURITY_POLICY.replace("connect-src 'none'", `connect-src 'self' ${ws}`);
}

/** Every response in the plugin's own session gets the policy, replacing any the server sent. */
export function installContentSecurityPolicy(session: Session, policy: string): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(details.responseHeaders ?? {})) {
      if (name.toLowerCase() !== 'content-security-policy') headers[name] = value;
    }
    headers['Content-Security-Policy'] = [policy];
    callback({ responseHeaders: headers });
  });
}
