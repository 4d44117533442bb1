// The plugin's pages load from its own scheme, `vm-cache://pages/...`, not
// from file:// (Electron's security checklist): a file:// page shares one
// opaque origin with every file on the disk, and loading ES modules from it
// needs the file protocol's extra privileges, which a hardened app turns off
// (the grantFileProtocolExtraPrivileges fuse). A standard, secure scheme gives
// the pages an origin of their own that the CSP's 'self' and the sender check
// can name exactly.
//
// Electron only makes a scheme privileged before the app is ready, and keeps
// the privileges of one call to registerSchemesAsPrivileged (a later call
// replaces the earlier call's secure and fetch lists for the renderers). So
// the registration is done once, here: by setupVmCache when it runs before
// 'ready', or by the host calling registerVmCacheScheme(...itsOwnSchemes)
// at the top of its main file, which makes the one call for both. A host call
// to registerSchemesAsPrivileged after ours is made to include our scheme (as
// Sentry's SDK does for its own); one made before ours cannot be seen, which
// is why hosts with schemes of their own pass them to registerVmCacheScheme.
import type { App, CustomScheme, Protocol } from 'electron';

export const PAGES_SCHEME = 'vm-cache';
export const PAGES_HOST = 'pages';
/** The pages' origin: what the sender check and the request filter allow. */
export const PAGES_ORIGIN = `${PAGES_SCHEME}://${PAGES_HOST}`;

/**
 * standard: relative URLs and a real origin; secure: a secure context, like
 * https; supportFetchAPI: the module scripts' loads. Nothing that loosens the
 * page's own policy (no bypassCSP, no service workers, no CORS for others).
 */
export const PAGES_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: PAGES_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true },
};

export type SchemeProtocol = Pick<Protocol, 'registerSchemesAsPrivileged'>;

// Per protocol object (Electron has one; each test's stand-in is its own).
const registered = new WeakSet<SchemeProtocol>();

/**
 * Makes the pages' scheme privileged, together with `hostSchemes` (the host's
 * own, if it has any: Electron honours one call only). Must run before the
 * app is ready; throws, saying so, when it is too late.
 */
export function registerPagesScheme(
  protocol: SchemeProtocol,
  app: Pick<App, 'isReady'>,
  hostSchemes: CustomScheme[] = [],
): void {
  if (registered.has(protocol)) {
    if (hostSchemes.length === 0) return;
    throw new Error(
      'electron-vm-cache: its scheme is already registered, so these schemes cannot be added: ' +
        'Electron keeps one registerSchemesAsPrivileged call; pass your schemes to the first registerVmCacheScheme() call',
    );
  }
  if (app.isReady()) {
    throw new Error(
      'electron-vm-cache: registerVmCacheScheme() must run before the app is ready; ' +
        'call it at the top of your main file, before app.whenReady()',
    );
  }
  const register = protocol.registerSchemesAsPrivileged.bind(protocol);
  register([...hostSchemes.filter((s) => s.scheme !== PAGES_SCHEME), PAGES_SCHEME_PRIVILEGES]);
  registered.add(protocol);
  // A later call by the host (or another library) would replace ours and
  // leave the plugin's windows blank: such a call keeps our scheme in it.
  protocol.registerSchemesAsPrivileged = (schemes: CustomScheme[]) =>
    register([...schemes.filter((s) => s.scheme !== PAGES_SCHEME), PAGES_SCHEME_PRIVILEGES]);
}

/**
 * Whether the plugin's windows can use the scheme: registered already, or
 * registered now because the app is not ready yet. False (the pages then
 * load from file://) when setup runs after 'ready' and nobody registered it.
 */
export function ensurePagesScheme(protocol: SchemeProtocol, app: Pick<App, 'isReady'>): boolean {
  if (registered.has(protocol)) return true;
  if (app.isReady()) return false;
  registerPagesScheme(protocol, app);
  return true;
}
