// The engine's public API: the contract host apps rely on (see docs/ and the
// brief), plus the maintenance actions and progress observation.
import { createHash } from 'node:crypto';
import type { SyncResult } from '../../contract/status.js';
import { manifestArchFor } from './arch.js';
import { findFlight, flightKey, flightsForRoot, linkAbort, startFlight } from './inflight.js';
import { readCachedManifestFile, vouchedArches } from './local-state.js';
import { selectArtifacts } from './manifest.js';
import { type ResolvedOptions, resolveOptions, type VmCacheOptions } from './options.js';
import { cacheDir, defaultRoot, getCachedManifestPath } from './paths.js';
import { planArtifacts } from './plan.js';

export type { ArtifactProgress, SyncPhase, SyncProgress } from '../../contract/progress.js';
export type { CacheStatus, SyncResult, VerifyReport } from '../../contract/status.js';
export { manifestArchFor } from './arch.js';
// For publishing tools (vm-cache manifest build, keygen): the engine's own atomic write and key rules.
export { O_NOFOLLOW, O_NONBLOCK, writeFileAtomic } from './atomic.js';
export {
  buildChunkIndex,
  CHUNK_INDEX_FORMAT,
  CHUNK_INDEX_SUFFIX,
  type ChunkIndex,
  parseChunkIndex,
  sameCut,
  serializeChunkIndex,
} from './chunk-index.js';
export { commitManifest } from './commit.js';
// For publishing tools (manifest build --previous): the plan a client would make, and when it gives up.
export {
  addLocalChunks,
  cutFile,
  type DeltaPlan,
  indexLocalFiles,
  type LocalChunk,
  planDelta,
} from './delta-plan.js';
export { MIN_REUSE_SHARE } from './delta-source.js';
export * from './errors.js';
export { type ImportOptions, importVmCache } from './import.js';
export {
  type ChangeListener,
  getSyncProgress,
  pauseSync as pauseVmCacheSync,
  watchSyncChanges,
  watchSyncProgress,
} from './inflight.js';
export { resolveKeyPath } from './keys.js';
export { clearVmCache, getVmCacheStatus, type MaintenanceOptions, verifyVmCache } from './maintenance.js';
export {
  artifactRootOf,
  parseManifest,
  type SelectedArtifact,
  selectArtifacts,
  type VmManifest,
  VmManifestSchema,
} from './manifest.js';
export {
  discardUnfinishedMove,
  type MoveProgress,
  type MoveResult,
  type MoveStep,
  type MoveVmCacheOptions,
  moveVmCache,
  type RemoveMovedVmCacheOptions,
  removeMovedVmCache,
} from './move.js';
export {
  DEFAULT_CONNECTIONS,
  resolveManifestUrl,
  setDefaultManifestUrl,
  type VmCacheOptions,
} from './options.js';
export { defaultRoot, getCachedManifestPath, MANIFEST_KEY, MAX_MANIFEST_BYTES } from './paths.js';
export { readPausedMarker as getPausedVmCacheSync } from './paused-marker.js';
export { MIN_LIMIT_RATE, parseRate, RateLimit } from './rate-limit.js';
export { type RetryPolicy, retryDelay } from './retry.js';
export { parseRoot } from './roots.js';
export { TrailingThrottle } from './throttle.js';
export type { FetchLike } from './transport.js';

/**
 * Makes the cache match the remote manifest. Concurrent calls for the same
 * root, URL and arch set return the very same promise.
 */
export function ensureVmCacheSynced(options: VmCacheOptions = {}): Promise<SyncResult> {
  let opts: ResolvedOptions;
  try {
    opts = resolveOptions(options);
  } catch (err) {
    return Promise.reject(err);
  }
  // Options that change what a sync accepts are part of its identity: a caller
  // that requires a signature never joins a sync that checks none.
  const key = flightKey(opts.root, opts.manifestUrl, opts.allArches ? '*' : opts.arch, trustOf(opts));
  const existing = findFlight(key);
  if (existing) {
    if (options.onProgress) {
      const listener = options.onProgress;
      existing.tracker.subscribe(listener);
      queueMicrotask(() => {
        try {
          listener(existing.tracker.snapshot());
        } catch {
          // A broken subscriber must not break the sync, nor the process.
        }
      });
    }
    // Any caller's cancel cancels the shared sync: the user pressed Cancel.
    linkAbort(options.signal, existing.abort, existing.promise);
    return existing.promise;
  }
  return startFlight(key, opts, options.signal);
}

function trustOf(opts: ResolvedOptions): string {
  const key = opts.publicKey
    ? createHash('sha256')
        .update(opts.publicKey.export({ type: 'spki', format: 'der' }))
        .digest('hex')
    : 'unsigned';
  return `${key}:${opts.allowInsecureHttp ? 'http-ok' : 'https'}`;
}

/** Same as ensureVmCacheSynced; meant for app launch (fire and forget is safe). */
export function prefetchVmCache(options: VmCacheOptions = {}): Promise<SyncResult> {
  return ensureVmCacheSynced(options);
}

/**
 * Resolves once a complete cache exists: waits for a sync of the same root
 * already in flight (ignoring its failure), returns at once if the cached
 * manifest is there with every tarball this host uses (one stat each, no
 * request), else starts a sync.
 */
export async function ensureVmCacheAvailable(options: VmCacheOptions = {}): Promise<SyncResult> {
  const root = options.root ?? defaultRoot();
  for (let flights = flightsForRoot(root); flights.length > 0; flights = flightsForRoot(root)) {
    await Promise.allSettled(flights.map((f) => f.promise));
  }
  if (await isComplete(root, options)) {
    return { downloaded: [], manifestPath: getCachedManifestPath(root), skipped: true };
  }
  return ensureVmCacheSynced(options);
}

/**
 * The warm path's own rule: every tarball this host uses is present at its
 * size and vouched for by the cached manifest (its own entry, in an arch the
 * last sync checked). One stat per tarball, no hashing, no request.
 */
async function isComplete(root: string, options: VmCacheOptions): Promise<boolean> {
  try {
    const cached = await readCachedManifestFile(root);
    if (!cached) return false;
    const arch = manifestArchFor(options.rawHostArch ?? process.arch);
    const artifacts = selectArtifacts(
      cached.manifest,
      getCachedManifestPath(root),
      arch,
      options.allArches ?? false,
    );
    const plans = await planArtifacts(
      cacheDir(root),
      artifacts,
      cached.manifest,
      await vouchedArches(root, cached, arch),
    );
    return plans.every((p) => p.action === 'cached');
  } catch {
    // A manifest this version refuses, an unsupported arch, an unreadable folder: the sync says what is wrong.
    return false;
  }
}
