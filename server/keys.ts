// Turning a request URL into an artifact key, and a key into a file inside the
// served folder. Keys are untrusted: the dir mode must never serve a file outside
// its folder, whatever the URL encodes (.., %2e%2e, %2f, backslashes, symlinks).

import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export interface ParsedKey {
  /** The key as logged: decoded path without the leading slash (best effort when unsafe). */
  key: string;
  /** False when the key must be answered 404 whatever exists on disk. */
  safe: boolean;
}

/** Keys accept a leading slash where callers pass one ('/vm/manifest.json'). */
export function normalizeKey(path: string): string {
  return path.replace(/^\/+/, '');
}

export function parseRequestKey(rawUrl: string): ParsedKey {
  // The raw URL, not `new URL()`: URL parsing would quietly resolve '..' segments
  // and hide a traversal attempt that should be refused.
  const pathPart = rawUrl.split(/[?#]/, 1)[0] ?? '';
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathPart);
  } catch {
    return { key: pathPart.replace(/^\/+/, ''), safe: false };
  }
  const key = normalizeKey(decoded);
  return { key, safe: isSafeKey(key) };
}

export function isSafeKey(key: string): boolean {
  if (key === '' || key.includes('\\') || key.includes('\0')) return false;
  return key.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

function inside(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

export interface DirFile {
  path: string;
  stats: Stats;
}

/** The regular file a safe key names inside `dir`, or undefined (missing, a folder, or outside). */
export async function resolveInDir(dir: string, key: string): Promise<DirFile | undefined> {
  if (!isSafeKey(key)) return undefined;
  try {
    const root = await realpath(dir);
    const candidate = resolve(root, key);
    if (!inside(root, candidate)) return undefined;
    // A symlink inside the folder may still point outside it.
    const real = await realpath(candidate);
    if (!inside(root, real)) return undefined;
    const stats = await stat(real);
    return stats.isFile() ? { path: real, stats } : undefined;
  } catch {
    return undefined;
  }
}
