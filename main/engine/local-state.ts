// What is on disk now: the cached manifest (the last complete sync) and our
// own record of the last successful sync, kept apart from the manifest.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ATOMIC_TEMP_NAME, writeFileAtomic, writeFileAtomicIfChanged } from './atomic.js';
import { sha256Hex } from './hash.js';
import { keyIdentity } from './keys.js';
import { acquireLock, type HeldLock, type LockOptions, removeDeadLockAttempts } from './lock.js';
import { type VmManifest, VmManifestSchema } from './manifest.js';
import { chunkStoreDir, getCachedManifestPath, stateDir } from './paths.js';

/** The cached manifest, or undefined when absent or unreadable (then nothing is trusted from it). */
export async function readCachedManifest(root: string): Promise<VmManifest | undefined> {
  return (await readCachedManifestFile(root))?.manifest;
}

/** The cached manifest with its bytes and their sha256. */
export async function readCachedManifestFile(root: string): Promise<CachedManifest | undefined> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(getCachedManifestPath(root));
  } catch {
    return undefined;
  }
  try {
    const parsed = VmManifestSchema.safeParse(JSON.parse(bytes.toString('utf8')));
    if (!parsed.success) return undefined;
    return { manifest: parsed.data, bytes, sha256: sha256Hex(bytes) };
  } catch {
    return undefined;
  }
}

export interface CachedManifest {
  manifest: VmManifest;
  bytes: Buffer;
  sha256: string;
}

/**
 * Which arches the cached manifest vouches for: those the sync that wrote it
 * checked. Other arches' entries were never downloaded or verified, so a file
 * at one of their keys may hold anything. Kept beside the manifest (which is
 * the remote document and nothing else) and tied to its bytes by sha256.
 */
interface VouchRecord {
  manifestSha256: string;
  /** `'*'` when every arch was synced. */
  arches: string[] | '*';
}

function vouchPath(root: string): string {
  return path.join(stateDir(root), 'cached-manifest.json');
}

/**
 * Removes the cached manifest and the record of what it vouches for, in that
 * order: whenever a file the manifest may name is about to change (a
 * replacement, a corrupt file found), neither may outlive the change.
 */
export async function distrustCachedManifest(root: string): Promise<void> {
  await fs.rm(getCachedManifestPath(root), { force: true });
  await fs.rm(vouchPath(root), { force: true });
}

/** Written just before the manifest it describes (both under the lock). */
export async function writeVouchRecord(root: string, record: VouchRecord): Promise<void> {
  await writeFileAtomicIfChanged(vouchPath(root), `${JSON.stringify(record)}\n`);
}

/**
 * The arches `cached` vouches for. Without a record that matches its bytes
 * (a cache from an older version, or a hand-placed manifest) only `hostArch`:
 * what any sync of this host checked.
 */
export async function vouchedArches(
  root: string,
  cached: CachedManifest | undefined,
  hostArch: string,
): Promise<Set<string> | '*'> {
  if (!cached) return new Set();
  return (await recordedArches(root, cached.sha256)) ?? new Set([hostArch]);
}

/** The arches recorded for the manifest whose bytes hash to `manifestSha256`, if that is what the record describes. */
export async function recordedArches(
  root: string,
  manifestSha256: string,
): Promise<Set<string> | '*' | undefined> {
  try {
    const record = JSON.parse(await fs.readFile(vouchPath(root), 'utf8')) as VouchRecord;
    if (record.manifestSha256 !== manifestSha256) return undefined;
    if (record.arches === '*') return '*';
    if (Array.isArray(record.arches)) return new Set(record.arches.filter((a) => typeof a === 'string'));
  } catch {
    // Absent or unreadable: nothing recorded.
  }
  return undefined;
}

/**
 * True when the cached manifest vouches for `artifact`'s bytes at its key:
 * an entry for the same key under the same arch, with the same sha256 and
 * size, in an arch that was synced, and no other entry naming other bytes for
 * that key (another arch's placeholder is never checked, so it proves nothing).
 */
export function vouchesFor(
  cached: VmManifest | undefined,
  arches: Set<string> | '*',
  artifact: { key: string; arch: string; sha256: string; sizeBytes: number },
): boolean {
  if (!cached) return false;
  if (arches !== '*' && !arches.has(artifact.arch)) return false;
  let matched = false;
  const id = keyIdentity(artifact.key);
  for (const agent of Object.values(cached.agents)) {
    for (const [arch, tarball] of Object.entries(agent.tarballs)) {
      if (keyIdentity(tarball.key) !== id) continue;
      const same =
        tarball.sha256.toLowerCase() === artifact.sha256 && tarball.sizeBytes === artifact.sizeBytes;
      if (!same) return false;
      if (arch === artifact.arch && tarball.key === artifact.key) matched = true;
    }
  }
  return matched;
}

/**
 * Every key the engine has put (or is about to put) in the cache and not yet
 * pruned: what is provably its own even where the cached manifest no longer
 * says so (verify removed it, a crash before a commit), so prune, clear and
 * size on disk can tell its files from a user's behind a folder link.
 */
function ledgerPath(root: string): string {
  return path.join(stateDir(root), 'installed-keys.json');
}

export async function readInstalledKeys(root: string): Promise<Set<string>> {
  try {
    const doc = JSON.parse(await fs.readFile(ledgerPath(root), 'utf8')) as { keys?: unknown };
    if (Array.isArray(doc.keys)) return new Set(doc.keys.filter((k): k is string => typeof k === 'string'));
  } catch {
    // Absent (a cache from an earlier version) or unreadable: nothing recorded.
  }
  return new Set();
}

/** Writes the ledger as `keys` (under the lock). No write when it already says exactly that. */
export async function writeInstalledKeys(root: string, keys: Iterable<string>): Promise<void> {
  await writeFileAtomicIfChanged(
    ledgerPath(root),
    `${JSON.stringify({ keys: [...new Set(keys)].sort() })}\n`,
  );
}

/** Adds `keys` to the ledger before any of their bytes reach the disk. */
export async function recordInstalling(root: string, keys: Iterable<string>): Promise<void> {
  await writeInstalledKeys(root, [...(await readInstalledKeys(root)), ...keys]);
}

/** Clear's part here: the records that describe the cache's content (not what it trusts). */
export async function forgetCacheRecords(root: string): Promise<void> {
  for (const file of [lastSyncPath(root), vouchPath(root), ledgerPath(root)])
    await fs.rm(file, { force: true });
  await fs.rm(chunkStoreDir(root), { recursive: true, force: true });
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
      const leftover = ATOMIC_TEMP_NAME.test(name) || name.startsWith('sync.lock.stale-');
      if (leftover) await fs.rm(path.join(dir, name), { force: true }).catch(() => {});
    }
  }
  return lock;
}
