// A new manifest may turn an old key's file into a folder of new keys
// (`img/a` then `img/a/b.tar.gz`), or the reverse. Each manifest is fine on
// its own, but the old file (or folder) stands where the new one must go, and
// prune only runs after a commit that could then never happen: every sync
// would fail alike. So before downloading, under the lock, what an earlier
// manifest left in the way is removed, the cached manifest first (it may
// vouch for it). Anything in the way that is not provably the cache's is
// refused, naming it, and nothing is removed.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { lstatOrUndefined } from './atomic.js';
import { CacheLayoutError, fsError } from './errors.js';
import { keyIdentity } from './keys.js';
import { distrustCachedManifest } from './local-state.js';
import { isOurs } from './prune.js';
import { walkCache } from './walk.js';

/**
 * Clears the way to each of `finalPaths` (under `cacheDir`): a file where a
 * folder must be, or a real folder where the file must be. `ours` are the
 * keys the cache put there (the previous manifest's).
 */
export async function makeWayFor(
  root: string,
  cacheDir: string,
  finalPaths: string[],
  ours: Set<string>,
): Promise<void> {
  const ourIds = new Set([...ours].map(keyIdentity));
  const relOf = (abs: string) => path.relative(cacheDir, abs).split(path.sep).join('/');
  const inTheWay: string[] = [];
  for (const finalPath of finalPaths) {
    // The folders above the file, from the top: the first that is not a folder is in the way.
    const parts = relOf(finalPath).split('/');
    for (let i = 1; i < parts.length; i++) {
      const above = path.join(cacheDir, ...parts.slice(0, i));
      const st = await lstatOrUndefined(above);
      if (!st) break;
      if (st.isDirectory() || (st.isSymbolicLink() && (await isFolder(above)))) continue;
      if (!isOurs(keyIdentity(relOf(above)), ourIds)) throw refusal(above, finalPath);
      inTheWay.push(above);
      break;
    }
    // A real folder where the file must be: only if all it holds is the cache's.
    const st = await lstatOrUndefined(finalPath);
    if (st?.isDirectory()) {
      for await (const entry of walkCache(finalPath)) {
        if (entry.kind === 'dir') continue;
        const rel = relOf(entry.abs);
        if (entry.kind !== 'file' || !isOurs(keyIdentity(rel), ourIds)) throw refusal(entry.abs, finalPath);
      }
      inTheWay.push(finalPath);
    }
  }
  if (inTheWay.length === 0) return;
  try {
    await distrustCachedManifest(root);
    for (const p of inTheWay) await fs.rm(p, { recursive: true, force: true });
  } catch (err) {
    throw fsError(`cannot clear the way in ${cacheDir}`, cacheDir, err);
  }
}

async function isFolder(p: string): Promise<boolean> {
  return (await fs.stat(p).catch(() => undefined))?.isDirectory() === true;
}

function refusal(blocking: string, finalPath: string): CacheLayoutError {
  return new CacheLayoutError(
    `cannot place ${finalPath}: ${blocking} is in the way and electron-vm-cache did not put it there; nothing was downloaded or changed. Move it out of the cache folder, then retry`,
  );
}
