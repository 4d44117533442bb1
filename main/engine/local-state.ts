// What is on disk now: the cached manifest (the last complete sync) and our
// own record of the last successful sync, kept apart from the manifest.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { acquireLock, type HeldLock, type LockOptions, removeDeadLockAttempts } from './lock.js';
import { type VmManifest, VmManifestSchema } from './manifest.js';
import { getCachedManifestPath, stateDir } from './paths.js';

/** The cached manifest, or undefined when absent or unreadable (then nothing is trusted from it). */
export async function readCachedManifest(root: string): Promise<VmManifest | undefined> {
  try {
    const doc = JSON.parse(await fs.readFile(getCachedManifestPath(root), 'utf8'));
    const parsed = VmManifestSchema.safeParse(doc);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** sha256 the cached manifest records for `key`, if any. */
export function cachedSha256(manifest: VmManifest | undefined, key: string): string | undefined {
  if (!manifest) return undefined;
  for (const agent of Object.values(manifest.agents)) {
    for (const tarball of Object.values(agent.tarballs)) {
      if (tarball.key === key) return tarball.sha256.toLowerCase();
    }
  }
  return undefined;
}

export interface LastSync {
  at: string;
  manifestUrl: string;
  downloaded: string[];
}

function lastSyncPath(root: string): string {
  return path.join(stateDir(root), 'last-sync.json');
}

export async function readLastSync(root: string): Promise<LastSync | undefined> {
  try {
    return JSON.parse(await fs.readFile(lastSyncPath(root), 'utf8')) as LastSync;
  } catch {
    return undefined;
  }
}

export async function writeLastSync(root: string, record: LastSync): Promise<void> {
  await writeFileAtomic(lastSyncPath(root), `${JSON.stringify(record, null, 2)}\n`);
}

export function lockPath(root: string): string {
  return path.join(stateDir(root), 'sync.lock');
}

/**
 * Takes the root's lock, then clears what killed processes left: temp files of
 * atomic writes (only a lock holder writes those, so any found now are dead),
 * stale locks moved aside, and abandoned lock attempts.
 */
export async function lockRoot(root: string, options: LockOptions = {}): Promise<HeldLock> {
  const lock = await acquireLock(lockPath(root), options);
  await removeDeadLockAttempts(lockPath(root));
  for (const dir of [stateDir(root), path.dirname(getCachedManifestPath(root))]) {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const leftover = (name.startsWith('.') && name.endsWith('.tmp')) || name.startsWith('sync.lock.stale-');
      if (leftover) await fs.rm(path.join(dir, name), { force: true }).catch(() => {});
    }
  }
  return lock;
}
