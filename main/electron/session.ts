// The plugin's windows run in their own in-memory session, so its policy
// (the CSP header, no remote requests, no permissions, no downloads) cannot
// clash with the host app's handlers on the default session, and the host's
// cookies and storage stay out of reach.
import type { Session } from 'electron';
import { contentSecurityPolicy, installContentSecurityPolicy } from './csp.js';
import { isPageResource, type PageSource } from './pages.js';
import type { ElectronParts } from './types.js';

export const SESSION_PARTITION = 'vm-cache';

export function createPluginSession(electron: Pick<ElectronParts, 'session'>, source: PageSource): Session {
  const session = electron.session.fromPartition(SESSION_PARTITION);
  installContentSecurityPolicy(session, contentSecurityPolicy(source.devServerUrl));
  // Defence in depth under the CSP: a request for anything but the app's own pages never leaves.
  session.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !isPageResource(source, details.url) });
  });
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.on('will-download', (event) => event.preventDefault());
  return session;
}
