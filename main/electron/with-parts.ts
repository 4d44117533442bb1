// The Electron layer with Electron passed in: setupVmCacheWith and the two
// helpers a host needs around it. Nothing here loads the `electron` module
// (types only), so a host's tests, or the demo's, run this wiring in plain
// Node with stand-ins for Electron's objects. index.ts is the same layer with
// the real modules filled in.
export { ensurePagesScheme } from './pages-scheme.js';
export { type SetupVmCacheOptions, setupVmCacheWith, type VmCacheSetup } from './setup.js';
export type { ElectronParts } from './types.js';
export { createSecureWindow } from './windows.js';
