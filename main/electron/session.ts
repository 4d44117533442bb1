// The plugin's windows run in their own in-memory session, so its policy
// (its pages' scheme, the CSP header, no remote requests, no permissions, no
// downloads) cannot clash with the host app's handlers on the default
// session, and the host's cookies and storage stay out of reach.
import type { Session } from 'electron';
import { contentSecurityPolicy } from '../../contract/csp.js';
import { isPageResource, type PageSource } from './pages.js';
import { pagesProtocolHandler } from './pages-protocol.js';
import { PAGES_SCHEME } from './pages-scheme.js';
import type { ElectronParts } from './types.js';

export const SESSION_PARTITION = 'vm-cache';

export function createPluginSession(electron: Pick<ElectronParts, 'session'>, source: PageSource): Session {
  const session = electron.session.fromPartition(SESSION_PARTITION);
  const policy = contentSecurityPolicy(source.devServerUrl);
  if (source.scheme) {
    // A protocol handler belongs to a session: the pages' scheme is served in
    // this one only. A second setup (a dev reload) replaces the first's.
    if (session.protocol.isProtocolHandled(PAGES_SCHEME)) session.protocol.unhandle(PAGES_SCHEME);
    // The handler sets the CSP header itself: it holds for these responses
    // whether or not webRequest's header hook runs for a custom scheme.
    session.protocol.handle(PAGES_SCHEME, pagesProtocolHandler(source.rendererDir, policy));
  }
  installContentSecurityPolicy(session, policy);
  // Defence in depth under the CSP: a request for anything but the app's own pages never leaves.
  session.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !isPageResource(source, details.url) });
  });
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.on('will-download', (event) => event.preventDefault());
  return session;
}

/** Every response in the plugin's own session gets the policy, replacing any the server sent. */
function installContentSecurityPolicy(session: Session, policy: string): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(details.responseHeaders ?? {})) {
      if (name.toLowerCase() !== 'content-security-policy') headers[name] = value;
    }
    headers['Content-Security-Policy'] = [policy];
    callback({ responseHeaders: headers });
  });
}
