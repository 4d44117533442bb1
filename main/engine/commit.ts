// The last steps of every way the cache is filled (a sync, an import), under
// the lock. Verified files are put in place so that at every instant the
// manifest on disk vouches only for bytes that verify against it; then the
// manifest is written atomically, what it no longer names is pruned, and the
// success is recorded.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { pruneStoredIndexes } from './chunk-store.js';
import { installPartial } from './download.js';
import { fsError } from './errors.js';
import { sha256Hex } from './hash.js';
import {
  distrustCachedManifest,
  readInstalledKeys,
  recordedArches,
  writeInstalledKeys,
  writeLastSync,
  writeVouchRecord,
} from './local-state.js';
import type { VmManifest } from './manifest.js';
import { cacheDir, getCachedManifestPath } from './paths.js';
import { pruneCache, referencedKeys, referencedSha256s } from './prune.js';
import { rememberAccepted, type TrustedManifest } from './trust.js';

/**
 * Renames verified `<key>.partial` files into place. When any of them
 * replaces a file the cached manifest may vouch for, that manifest goes
 * first, so a crash or a failing write from here to the commit leaves a
 * cache without a manifest (the next sync re-checks it), never one whose
 * manifest names other bytes.
 */
export async function installStaged(root: string, finalPaths: string[]): Promise<void> {
  try {
    const replacing = await Promise.all(
      finalPaths.map((p) =>
        fs.lstat(p).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (replacing.some(Boolean)) await distrustCachedManifest(root);
    for (const finalPath of finalPaths) await installPartial(finalPath);
  } catch (err) {
    throw fsError(`cannot replace files in ${cacheDir(root)}`, cacheDir(root), err);
  }
}

export interface CommitOptions {
  root: string;
  /** The remote document exactly as parsed: nothing else goes into manifest.json. */
  doc: Record<string, unknown>;
  manifest: VmManifest;
  /** Keys that this run put in place. */
  installed: string[];
  /** The arches whose entries this run checked (all present and verified): what the manifest will vouch for. */
  arches: string[] | '*';
  /** Where the manifest came from (URL, or file URL of an import). */
  source: string;
  /** The manifest the cache held before this run: its keys are ours to prune even behind a folder link. */
  previous?: VmManifest | undefined;
  /** For a sync: what rollback protection remembers for `source` from now on. */
  accepted?: TrustedManifest;
  prune: boolean;
}

/** Returns the path of the manifest written. */
export async function commitManifest(options: CommitOptions): Promise<string> {
  const manifestPath = getCachedManifestPath(options.root);
  const text = `${JSON.stringify(options.doc, null, 2)}\n`;
  try {
    const manifestSha256 = sha256Hex(text);
    const current = await holds(manifestPath, text);
    // The same manifest synced for one arch after all of them still vouches
    // for all of them, if it is still the one on disk (nothing replaced since).
    const before = current ? await recordedArches(options.root, manifestSha256) : undefined;
    const arches =
      options.arches === '*' || before === '*'
        ? '*'
        : [...new Set([...options.arches, ...(before ?? [])])].sort();
    await writeVouchRecord(options.root, { manifestSha256, arches });
    // Before the manifest: once it is on disk, nothing older may replace it.
    if (options.accepted) await rememberAccepted(options.root, options.source, options.accepted);
    // A cache that is already current needs no rewrite (nor its fsyncs).
    if (!current) await writeFileAtomic(manifestPath, text);
  } catch (err) {
    throw fsError(`cannot write ${manifestPath}`, path.dirname(manifestPath), err);
  }
  // The cache is complete from here on; pruning and the record are best effort.
  const keep = referencedKeys(options.manifest);
  const ledger = await readInstalledKeys(options.root);
  if (options.prune) {
    const ours = new Set([...keep, ...ledger, ...(options.previous ? referencedKeys(options.previous) : [])]);
    // After a prune, what the cache holds of its own is what the manifest names.
    const pruned = await pruneCache(cacheDir(options.root), keep, keep, ours).then(
      () => true,
      () => false,
    );
    if (pruned) await writeInstalledKeys(options.root, keep).catch(() => {});
    // The chunk indexes kept for delta updates follow the tarballs.
    await pruneStoredIndexes(options.root, referencedSha256s(options.manifest));
  } else {
    await writeInstalledKeys(options.root, [...ledger, ...keep]).catch(() => {});
  }
  await writeLastSync(options.root, {
    at: new Date().toISOString(),
    manifestUrl: options.source,
    downloaded: options.installed,
  }).catch(() => {});
  return manifestPath;
}

/** True when `file` holds exactly `text`. */
export async function holds(file: string, text: string): Promise<boolean> {
  try {
    return (await fs.readFile(file, 'utf8')) === text;
  } catch {
    return false;
  }
}
