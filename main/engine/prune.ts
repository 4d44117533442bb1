// After a successful sync, under the lock: what the new manifest no longer
// names is removed, so old VM versions do not pile up gigabytes on the disk.
// Links to folders are the user's (big files moved to another disk): they are
// walked into and never removed. Only a cache folder that is ours is pruned.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isOurs, keyIdentity, partialOf, unsafeKeyReason } from './keys.js';
import type { VmManifest } from './manifest.js';
import { assertCacheOwned } from './ownership.js';
import { MANIFEST_KEY, partialMetaPath, partialPath, rootOfCacheDir } from './paths.js';
import { walkCache } from './walk.js';

const ALWAYS_KEEP = [MANIFEST_KEY, `${MANIFEST_KEY}.sig`];

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

/** The sha256 of every tarball `manifest` names, any arch, lower case. */
export function referencedSha256s(manifest: VmManifest): Set<string> {
  const shas = new Set<string>();
  for (const agent of Object.values(manifest.agents))
    for (const tarball of Object.values(agent.tarballs)) shas.add(String(tarball.sha256).toLowerCase());
  return shas;
}

/**
 * Where the kept files really are. A file reached by another path (two links
 * to one folder, the walk enters it once) is still one of them.
 */
async function keptRealPaths(cacheDir: string, keep: Set<string>, keepPartials: Set<string>) {
  const files: string[] = [];
  for (const key of [...ALWAYS_KEEP, ...keep]) files.push(path.join(cacheDir, ...key.split('/')));
  for (const key of keepPartials) {
    const finalPath = path.join(cacheDir, ...key.split('/'));
    files.push(partialPath(finalPath), partialMetaPath(finalPath));
  }
  const real = new Set<string>();
  for (const file of files) {
    const resolved = await fs.realpath(file).catch(() => undefined);
    if (resolved) real.add(resolved);
  }
  return real;
}

/**
 * Removes files under `cacheDir` (always `<root>/cache`) that `keep` does not
 * name, and partials whose key is not in `keepPartials`. Names are compared
 * as keyIdentity folds them: on a case-insensitive disk `IMG/A` is the file of
 * key `img/a`. Returns the relative paths removed. Throws CacheLayoutError,
 * deleting nothing, when the folder is not the engine's.
 */
export async function pruneCache(
  cacheDir: string,
  keep: Set<string>,
  keepPartials: Set<string>,
  /** Keys the engine put here (the previous manifest's): behind a folder link, only these and our own temp names go. */
  ours: Set<string> = new Set(),
): Promise<string[]> {
  const removed: string[] = [];
  if (!(await assertCacheOwned(rootOfCacheDir(cacheDir), 'prune'))) return removed;
  const keepIds = new Set([...ALWAYS_KEEP, ...keep].map(keyIdentity));
  const partialIds = new Set([...keepPartials].map(keyIdentity));
  const ourIds = new Set([...ours].map(keyIdentity));
  const keptReal = await keptRealPaths(cacheDir, keep, keepPartials);
  const dirs: string[] = [];
  for await (const entry of walkCache(cacheDir)) {
    if (entry.kind === 'dir-link') continue;
    if (entry.kind === 'dir') {
      if (keyIdentity(entry.rel) !== 'vm') dirs.push(entry.abs);
      continue;
    }
    const id = keyIdentity(entry.rel);
    if (keepIds.has(id)) continue;
    const of = partialOf(id);
    if (of !== undefined && partialIds.has(of)) continue;
    if (entry.linked && !isOurs(id, ourIds)) continue;
    const real = await fs.realpath(entry.abs).catch(() => undefined);
    if (real !== undefined && keptReal.has(real)) continue;
    // fs.rm removes a link itself, never what it points to.
    await fs.rm(entry.abs, { force: true });
    removed.push(entry.rel);
  }
  // Deepest first, so emptied parents go too; rmdir refuses folders that still
  // hold something (a link to a folder, or files it keeps).
  dirs.sort((a, b) => b.length - a.length);
  for (const dir of dirs) await fs.rmdir(dir).catch(() => {});
  return removed;
}
