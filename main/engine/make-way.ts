// A new manifest may turn an old key's file into a folder of new keys
// (`img/a` then `img/a/b.tar.gz`), or the reverse. Each manifest is fine on
// its own, but the old file (or folder) stands where the new one must go, and
// prune only runs after a commit that could then never happen: every sync
// would fail alike. So before downloading, under the lock, what an earlier
// manifest left in the way is removed, the cached manifest first (it may
// vouch for it). Behind a folder link, anything in the way that is not
// provably the cache's is refused, naming it, and nothing is removed.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { lstatOrUndefined } from './atomic.js';
import { CacheLayoutError, fsError } from './errors.js';
import { isOurs, keyIdentity } from './keys.js';
import { distrustCachedManifest, readInstalledKeys, recordInstalling } from './local-state.js';
import type { VmManifest } from './manifest.js';
import { referencedKeys } from './prune.js';
import { walkCache } from './walk.js';

/**
 * The last step before the bytes of `items` are written (under the lock,
 * after the disk-space check): the way to each is cleared, and their keys go
 * into the ledger of what the cache put there, before any byte does.
 */
export async function prepareToInstall(
  root: string,
  cacheDir: string,
  items: Array<{ key: string; path: string }>,
  previous: VmManifest | undefined,
): Promise<void> {
  if (items.length === 0) return;
  const ours = new Set([...(previous ? referencedKeys(previous) : []), ...(await readInstalledKeys(root))]);
  await makeWayFor(
    root,
    cacheDir,
    items.map((i) => i.path),
    ours,
  );
  try {
    await recordInstalling(
      root,
      items.map((i) => i.key),
    );
  } catch (err) {
    throw fsError(`cannot write the cache's records in ${root}`, root, err);
  }
}

/**
 * Clears the way to each of `finalPaths` (under `cacheDir`): a file where a
 * folder must be, or a real folder where the file must be. In the cache's own
 * folders everything is the cache's (prune would remove it anyway); behind a
 * folder link (the user's other disk) only `ours`, the keys the cache put
 * there, and what belongs to them.
 */
async function makeWayFor(
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
      if ((await behindLink(cacheDir, above)) && !isOurs(keyIdentity(relOf(above)), ourIds))
        throw refusal(above, finalPath);
      inTheWay.push(above);
      break;
    }
    // A real folder where the file must be: only if all it holds is the cache's.
    const st = await lstatOrUndefined(finalPath);
    if (st?.isDirectory()) {
      const linked = await behindLink(cacheDir, finalPath);
      for await (const entry of walkCache(finalPath)) {
        if (entry.kind === 'dir') continue;
        // A folder link inside is a user's: never removed with what is around it.
        if (entry.kind === 'dir-link') throw refusal(entry.abs, finalPath);
        const theirs = (linked || entry.linked) && !isOurs(keyIdentity(relOf(entry.abs)), ourIds);
        if (theirs) throw refusal(entry.abs, finalPath);
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

/** True when a folder between `cacheDir` and `p` is a link (to another disk): what is there may be a user's. */
async function behindLink(cacheDir: string, p: string): Promise<boolean> {
  const parts = path.relative(cacheDir, path.dirname(p)).split(path.sep).filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    if ((await lstatOrUndefined(path.join(cacheDir, ...parts.slice(0, i))))?.isSymbolicLink()) return true;
  }
  return false;
}

async function isFolder(p: string): Promise<boolean> {
  return (await fs.stat(p).catch(() => undefined))?.isDirectory() === true;
}

function refusal(blocking: string, finalPath: string): CacheLayoutError {
  return new CacheLayoutError(
    `cannot place ${finalPath}: ${blocking} is in the way and electron-vm-cache did not put it there; nothing was downloaded or changed. Move it out of the cache folder, then retry`,
  );
}
