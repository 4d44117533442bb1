// The settings page's actions: Verify (a full re-hash, on request only),
// Clear, and the status summary. Each takes the root's lock, so none of them
// races a sync in this or another process.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CacheStatus, VerifyReport } from '../../contract/status.js';
import { manifestArchFor } from './arch.js';
import { statOrUndefined } from './atomic.js';
import { fsError } from './errors.js';
import { getSyncProgress } from './inflight.js';
import { resolveKeyPath, unsafeKeyReason } from './keys.js';
import { lockRoot, readCachedManifest, readLastSync } from './local-state.js';
import type { LockOptions } from './lock.js';
import { selectArtifacts } from './manifest.js';
import { cacheDir, defaultRoot, getCachedManifestPath, stateDir } from './paths.js';
import { sha256File } from './plan.js';

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
 * A corrupt tarball is removed, and so is the manifest when anything is wrong,
 * so the next sync (and ensureVmCacheAvailable) repairs the cache.
 */
export async function verifyVmCache(options: MaintenanceOptions = {}): Promise<VerifyReport> {
  const root = options.root ?? defaultRoot();
  const arch = manifestArchFor(options.rawHostArch ?? process.arch);
  return withLock(root, options, async () => {
    const manifest = await readCachedManifest(root);
    if (!manifest) return { ok: false, entries: [] };
    const dir = cacheDir(root);
    const entries: VerifyReport['entries'] = [];
    for (const artifact of selectArtifacts(
      manifest,
      getCachedManifestPath(root),
      arch,
      options.allArches ?? false,
    )) {
      const file = resolveKeyPath(dir, artifact.key);
      const st = await statOrUndefined(file);
      if (!st?.isFile()) {
        entries.push({ key: artifact.key, state: 'missing' });
        continue;
      }
      const ok =
        st.size === artifact.sizeBytes && (await sha256File(file, options.signal)) === artifact.sha256;
      if (!ok) await fs.rm(file, { force: true });
      entries.push({ key: artifact.key, state: ok ? 'ok' : 'corrupt' });
    }
    const ok = entries.every((e) => e.state === 'ok');
    // The manifest vouches for every tarball it names; one that no longer can
    // would let the warm path and ensureVmCacheAvailable trust a broken cache.
    // Without it, the next sync re-checks what is left and fetches the rest.
    if (!ok) await fs.rm(getCachedManifestPath(root), { force: true });
    return { ok, entries };
  });
}

/** Removes the whole cache: the manifest first, so a half-cleared cache never looks complete. */
export async function clearVmCache(options: MaintenanceOptions = {}): Promise<{ removedBytes: number }> {
  const root = options.root ?? defaultRoot();
  return withLock(root, options, async () => {
    const dir = cacheDir(root);
    const removedBytes = await sizeOnDisk(dir);
    try {
      await fs.rm(getCachedManifestPath(root), { force: true });
      await fs.rm(dir, { recursive: true, force: true });
      await fs.rm(path.join(stateDir(root), 'last-sync.json'), { force: true });
    } catch (err) {
      throw fsError(`cannot clear ${dir}`, dir, err);
    }
    return { removedBytes };
  });
}

export async function sizeOnDisk(dir: string): Promise<number> {
  let total = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const st = await statOrUndefined(path.join(entry.parentPath, entry.name)).catch(() => undefined);
    total += st?.size ?? 0;
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
    sizeOnDiskBytes: await sizeOnDisk(dir),
    lastSync: last ? { at: last.at, downloaded: last.downloaded } : null,
    progress: getSyncProgress(root) ?? null,
    logPath: options.logPath ?? null,
  };
}
