// After a successful sync, under the lock: what the new manifest no longer
// names is removed, so old VM versions do not pile up gigabytes on the disk.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { unsafeKeyReason } from './keys.js';
import type { VmManifest } from './manifest.js';
import { MANIFEST_KEY } from './paths.js';

const ALWAYS_KEEP = new Set([MANIFEST_KEY, `${MANIFEST_KEY}.sig`]);

/** Every key the manifest names, any arch: a host syncing x64 does not delete an arm64 download. */
export function referencedKeys(manifest: VmManifest): Set<string> {
  const keys = new Set<string>();
  for (const agent of Object.values(manifest.agents)) {
    for (const tarball of Object.values(agent.tarballs)) {
      if (!unsafeKeyReason(tarball.key)) keys.add(tarball.key);
    }
  }
  return keys;
}

/**
 * Removes files under `cacheDir` that `keep` does not name, and partials whose
 * key is not in `keepPartials`. Returns the relative paths removed.
 */
export async function pruneCache(
  cacheDir: string,
  keep: Set<string>,
  keepPartials: Set<string>,
): Promise<string[]> {
  const removed: string[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(cacheDir, { recursive: true, withFileTypes: true });
  } catch {
    return removed;
  }
  const dirs: string[] = [];
  for (const entry of entries) {
    const abs = path.join(entry.parentPath, entry.name);
    const rel = path.relative(cacheDir, abs).split(path.sep).join('/');
    if (entry.isDirectory()) {
      dirs.push(abs);
      continue;
    }
    if (ALWAYS_KEEP.has(rel) || keep.has(rel)) continue;
    const partialOf = rel.endsWith('.partial.json')
      ? rel.slice(0, -'.partial.json'.length)
      : rel.endsWith('.partial')
        ? rel.slice(0, -'.partial'.length)
        : undefined;
    if (partialOf !== undefined && keepPartials.has(partialOf)) continue;
    await fs.rm(abs, { force: true });
    removed.push(rel);
  }
  // Deepest first, so emptied parents go too; rmdir refuses folders that still hold something.
  dirs.sort((a, b) => b.length - a.length);
  for (const dir of dirs) {
    if (dir === path.join(cacheDir, 'vm')) continue;
    await fs.rmdir(dir).catch(() => {});
  }
  return removed;
}
