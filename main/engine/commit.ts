// The last step of every way the cache is filled (a sync, an import): once
// every tarball is in place, the manifest is written atomically, what it no
// longer names is pruned, and the success is recorded. Called under the lock.
import path from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { fsError } from './errors.js';
import { writeLastSync } from './local-state.js';
import type { VmManifest } from './manifest.js';
import { cacheDir, getCachedManifestPath } from './paths.js';
import { pruneCache, referencedKeys } from './prune.js';

export interface CommitOptions {
  root: string;
  /** The remote document exactly as parsed: nothing else goes into manifest.json. */
  doc: Record<string, unknown>;
  manifest: VmManifest;
  /** Keys that this run put in place. */
  installed: string[];
  /** Where the manifest came from (URL, or file URL of an import). */
  source: string;
  prune: boolean;
}

/** Returns the path of the manifest written. */
export async function commitManifest(options: CommitOptions): Promise<string> {
  const manifestPath = getCachedManifestPath(options.root);
  try {
    await writeFileAtomic(manifestPath, `${JSON.stringify(options.doc, null, 2)}\n`);
  } catch (err) {
    throw fsError(`cannot write ${manifestPath}`, path.dirname(manifestPath), err);
  }
  // The cache is complete from here on; pruning and the record are best effort.
  if (options.prune) {
    const keep = referencedKeys(options.manifest);
    await pruneCache(cacheDir(options.root), keep, keep).catch(() => {});
  }
  await writeLastSync(options.root, {
    at: new Date().toISOString(),
    manifestUrl: options.source,
    downloaded: options.installed,
  }).catch(() => {});
  return manifestPath;
}
