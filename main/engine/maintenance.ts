// The settings page's actions: Verify (a full re-hash, on request only),
// Clear, and the status summary. Each takes the root's lock, so none of them
// races a sync in this or another process.
import { promises as fs } from 'node:fs';
import type { CacheStatus, VerifyReport } from '../../contract/status.js';
import { manifestArchFor } from './arch.js';
import { lstatOrUndefined, statOrUndefined } from './atomic.js';
import { readStoredIndex } from './chunk-store.js';
import type { ByteRange } from './delta-plan.js';
import { fsError } from './errors.js';
import { sha256File } from './hash.js';
import { forgetPaused, getSyncProgress } from './inflight.js';
import { isOurs, keyIdentity, resolveKeyPath, unsafeKeyReason } from './keys.js';
import {
  distrustCachedManifest,
  forgetCacheRecords,
  lockRoot,
  readCachedManifest,
  readInstalledKeys,
  readLastSync,
} from './local-state.js';
import type { LockOptions } from './lock.js';
import { selectArtifacts, type VmManifest } from './manifest.js';
import { assertCacheOwned } from './ownership.js';
import { cacheDir, cacheMarkerPath, defaultRoot, getCachedManifestPath } from './paths.js';
import { readPausedMarker } from './paused-marker.js';
import { referencedKeys } from './prune.js';
import { hashByChunks, keepForRepair } from './repair.js';
import { type CacheEntry, walkCache } from './walk.js';

export interface MaintenanceOptions {
  root?: string;
  allArches?: boolean;
  rawHostArch?: string;
  signal?: AbortSignal;
  /** Called once if another process holds the lock and we wait for it. */
  onWaitForLock?: () => void;
}

async function withLock<T>(root: string, options: MaintenanceOptions, work: () => Promise<T>): Promise<T> {
  const lockOptions: LockOptions = { signal: options.signal };
  if (options.onWaitForLock) lockOptions.onWait = options.onWaitForLock;
  const lock = await lockRoot(root, lockOptions);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}

/**
 * Re-hashes every cached tarball this host uses against the cached manifest.
 * The first tarball found missing or corrupt takes the manifest with it,
 * before that tarball is removed: the manifest never names a tarball known
 * to be bad or gone, and the next sync (and ensureVmCacheAvailable) repairs
 * the cache.
 */
export async function verifyVmCache(options: MaintenanceOptions = {}): Promise<VerifyReport> {
  const root = options.root ?? defaultRoot();
  const arch = manifestArchFor(options.rawHostArch ?? process.arch);
  return withLock(root, options, async () => {
    const manifest = await readCachedManifest(root);
    if (!manifest) return { ok: false, entries: [] };
    const dir = cacheDir(root);
    const entries: VerifyReport['entries'] = [];
    const manifestPath = getCachedManifestPath(root);
    // The manifest vouches for every tarball it names; one that no longer can
    // would let the warm path and ensureVmCacheAvailable trust a broken cache.
    // It goes as soon as one fails, before that tarball and before hashing
    // the rest (an abort in between must not leave it vouching for them).
    // Without it, the next sync re-checks what is left and fetches the rest.
    for (const artifact of selectArtifacts(manifest, manifestPath, arch, options.allArches ?? false)) {
      const file = resolveKeyPath(dir, artifact.key);
      const st = await statOrUndefined(file);
      if (!st?.isFile()) {
        await distrustCachedManifest(root);
        entries.push({ key: artifact.key, state: 'missing' });
        continue;
      }
      // With the tarball's chunk index kept, the same pass says which chunks are bad.
      const index = st.size === artifact.sizeBytes ? await readStoredIndex(root, artifact) : undefined;
      let bad: ByteRange[] = [];
      let ok = false;
      if (index) {
        const hashed = await hashByChunks(file, index, options.signal);
        ok = hashed.sha256 === artifact.sha256;
        bad = hashed.bad;
      } else if (st.size === artifact.sizeBytes) {
        ok = (await sha256File(file, options.signal)) === artifact.sha256;
      }
      if (ok) {
        entries.push({ key: artifact.key, state: 'ok' });
        continue;
      }
      await distrustCachedManifest(root);
      // Kept as its partial, the next sync fetches only the bad ranges.
      if (bad.length > 0 && (await keepForRepair(file, artifact, bad))) {
        entries.push({ key: artifact.key, state: 'corrupt', badRanges: bad });
      } else {
        await fs.rm(file, { force: true });
        entries.push({ key: artifact.key, state: 'corrupt' });
      }
    }
    const ok = entries.every((e) => e.state === 'ok');
    return { ok, entries };
  });
}

/**
 * Removes the whole cache: the manifest first, so a half-cleared cache never
 * looks complete. Files under a linked folder are removed (their bytes are
 * the cache's) but the links stay: they are the user's. Refuses, deleting
 * nothing, a cache folder the engine did not make (CacheLayoutError).
 * `removedBytes` counts the files actually removed.
 */
export async function clearVmCache(options: MaintenanceOptions = {}): Promise<{ removedBytes: number }> {
  const root = options.root ?? defaultRoot();
  return withLock(root, options, async () => ({ removedBytes: await clearLocked(root) }));
}

/** Clear's work for a caller that holds the root's lock already (a move removing its old root); the bytes freed. */
export async function clearLocked(root: string): Promise<number> {
  const dir = cacheDir(root);
  let removedBytes = 0;
  try {
    if (await assertCacheOwned(root, 'clear')) {
      const counted = new Set<string>();
      // Behind a folder link only the cache's own keys (and their partials) are removed.
      const ours = await ourKeyIds(root, await readCachedManifest(root));
      const manifest = await lstatOrUndefined(getCachedManifestPath(root));
      await distrustCachedManifest(root);
      if (manifest?.isFile()) {
        counted.add(`${manifest.dev}:${manifest.ino}`);
        removedBytes += manifest.size;
      }
      removedBytes += await removeFilesUnder(dir, counted, ours);
    }
    // What described the cache goes with it; what the cache learnt about the
    // server (the newest manifest accepted, trusted-manifests.json) stays, so
    // a clear is no way back to an older manifest.
    await forgetCacheRecords(root);
    await forgetPaused(root);
    // Last: a clear cut short leaves the folder still known as ours.
    await fs.rm(cacheMarkerPath(root), { force: true });
  } catch (err) {
    throw fsError(`cannot clear ${dir}`, dir, err);
  }
  return removedBytes;
}

/** Removes every file under `dir` and the folders left empty, keeping links to folders; returns the bytes freed. */
async function removeFilesUnder(dir: string, counted: Set<string>, ours: Set<string>): Promise<number> {
  let freed = 0;
  const dirs: string[] = [];
  for await (const entry of walkCache(dir)) {
    if (entry.kind === 'dir-link') continue;
    if (entry.kind === 'dir') {
      dirs.push(entry.abs);
      continue;
    }
    if (entry.linked && !isOurs(keyIdentity(entry.rel), ours)) continue;
    await fs.rm(entry.abs, { force: true });
    freed += fileBytes(entry, counted);
  }
  dirs.sort((a, b) => b.length - a.length);
  for (const sub of dirs) await fs.rmdir(sub).catch(() => {});
  // The cache folder itself goes only when it is a real folder left empty; a link to one is the user's.
  if ((await lstatOrUndefined(dir))?.isDirectory()) await fs.rmdir(dir).catch(() => {});
  return freed;
}

/** The bytes a regular file holds, once per file however many paths reach it; links count nothing. */
function fileBytes(entry: CacheEntry, counted: Set<string>): number {
  if (entry.kind !== 'file') return 0;
  const id = `${entry.lstat.dev}:${entry.lstat.ino}`;
  if (counted.has(id)) return 0;
  counted.add(id);
  return entry.lstat.size;
}

/** What Clear would free: the regular files under `dir`, linked folders included, each counted once. */
/** The cache's own keys (folded): the cached manifest's and every key the engine recorded putting there. */
async function ourKeyIds(root: string, cached: VmManifest | undefined): Promise<Set<string>> {
  const keys = [...(cached ? referencedKeys(cached) : []), ...(await readInstalledKeys(root))];
  return new Set(keys.map(keyIdentity));
}

export async function sizeOnDisk(dir: string, ours: Set<string> = new Set()): Promise<number> {
  const counted = new Set<string>();
  let total = 0;
  for await (const entry of walkCache(dir)) {
    // The user's own files behind a folder link are not the cache's (Clear leaves them).
    if (entry.linked && !isOurs(keyIdentity(entry.rel), ours)) continue;
    total += fileBytes(entry, counted);
  }
  return total;
}

/** What the settings form shows. Cheap: stats only, no hashing, no lock. */
export async function getVmCacheStatus(
  options: { root?: string; manifestUrl?: string; logPath?: string | null } = {},
): Promise<CacheStatus> {
  const root = options.root ?? defaultRoot();
  const manifest = await readCachedManifest(root);
  const dir = cacheDir(root);
  let cached: CacheStatus['cached'] = null;
  if (manifest) {
    const artifacts: NonNullable<CacheStatus['cached']>['artifacts'] = [];
    for (const [agent, entry] of Object.entries(manifest.agents)) {
      for (const [arch, tarball] of Object.entries(entry.tarballs)) {
        if (unsafeKeyReason(tarball.key)) continue;
        const st = await statOrUndefined(resolveKeyPath(dir, tarball.key)).catch(() => undefined);
        artifacts.push({
          agent,
          version: entry.version,
          arch,
          key: tarball.key,
          sha256: tarball.sha256,
          sizeBytes:
            Number.isSafeInteger(tarball.sizeBytes) && tarball.sizeBytes >= 0 ? tarball.sizeBytes : 0,
          present: st?.isFile() === true && st.size === tarball.sizeBytes,
        });
      }
    }
    cached = { updatedAt: manifest.updatedAt, artifacts };
  }
  const last = await readLastSync(root);
  return {
    root,
    manifestUrl: options.manifestUrl ?? '',
    cached,
    sizeOnDiskBytes: await sizeOnDisk(dir, await ourKeyIds(root, manifest)),
    lastSync: last ? { at: last.at, downloaded: last.downloaded } : null,
    // A pause in another process (or an earlier run of this app) shows too, from its marker.
    progress: getSyncProgress(root) ?? (await readPausedMarker(root)) ?? null,
    logPath: options.logPath ?? null,
  };
}
