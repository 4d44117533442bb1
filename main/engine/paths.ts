// Where things live. The cache mirrors the CDN (`<root>/cache/<key>`); our own
// bookkeeping (lock, last-sync record, the cache's owner marker) lives in
// `<root>/state`, never in the manifest.
import os from 'node:os';
import path from 'node:path';

export const APP_DIR_NAME = 'electron-vm-cache';

/** Where the manifest lives, on the CDN and in the cache. */
export const MANIFEST_KEY = 'vm/manifest.json';

/** Manifests larger than this are refused (a hostile 50 MB "manifest" must not eat memory). */
export const MAX_MANIFEST_BYTES = 16 << 20;

export function cacheDir(root: string): string {
  return path.join(root, 'cache');
}

/** The root a cache folder belongs to: the inverse of cacheDir(). */
export function rootOfCacheDir(dir: string): string {
  return path.dirname(dir);
}

export function stateDir(root: string): string {
  return path.join(root, 'state');
}

/**
 * Says that `<root>/cache` is the engine's to prune and clear. It lives in the
 * state folder, beside our other bookkeeping, so the cache keeps mirroring the
 * CDN file for file.
 */
export function cacheMarkerPath(root: string): string {
  return path.join(stateDir(root), 'cache-owner.json');
}

/** The chunk indexes of the cached tarballs, by sha256, kept for delta updates (chunk-store.ts). */
export function chunkStoreDir(root: string): string {
  return path.join(stateDir(root), 'chunk-indexes');
}

export function getCachedManifestPath(root: string = defaultRoot()): string {
  return path.join(root, 'cache', 'vm', 'manifest.json');
}

export function partialPath(finalPath: string): string {
  return `${finalPath}.partial`;
}

/** Resume bookkeeping for a partial: expected sha256, size, validator. */
export function partialMetaPath(finalPath: string): string {
  return `${finalPath}.partial.json`;
}

/** `VM_CACHE_ROOT`, else the platform's cache folder for the app. */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  const fromEnv = env.VM_CACHE_ROOT?.trim();
  if (fromEnv) return path.resolve(fromEnv);
  const home = os.homedir();
  if (platform === 'darwin') return path.join(home, 'Library', 'Caches', APP_DIR_NAME);
  if (platform === 'win32') {
    const local = env.LOCALAPPDATA?.trim() || path.join(home, 'AppData', 'Local');
    return path.join(local, APP_DIR_NAME, 'Cache');
  }
  const xdg = env.XDG_CACHE_HOME?.trim();
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(home, '.cache'), APP_DIR_NAME);
}
