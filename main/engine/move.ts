// "Move cache to…": a root's cache goes to another folder, usually on another
// disk, by copy, verify, switch, then delete, so that a crash at any moment
// leaves a complete cache in one of the two places and the caller's pointer
// (which root the app uses) names a complete one:
//
//   1. Under the old root's lock: a record of the move in the old root
//      (`state/moving-to.json`), then the new root's lock.
//   2. Copy into a staging folder inside the new root (`<to>/.moving-<hex>`):
//      the cached manifest, the tarballs, partial downloads and the state the
//      cache needs to keep trusting them.
//   3. Verify the copy there: every file read back and hashed, each tarball
//      against the manifest read back from the copy; fsync files and folders.
//   4. Place it: `cache/`, then the state files, then the record naming the
//      old root (`state/moved-from.json`), each one rename on the new disk.
//   5. switchRoot(to): the caller records the new root.
//   6. Delete the old root's files (the engine's own layout only).
//
// Until step 5 the old root is untouched and the copy is discarded on any
// failure or cancel. A process killed before the switch leaves its copy, which
// the next move from the same root removes first; one killed after it leaves
// files at the old root, which removeMovedVmCache removes later.
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs, constants as fsConstants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { ErrorCode } from '../../contract/errors.js';
import { manifestArchFor } from './arch.js';
import {
  fsyncDir,
  isOwnRegularFile,
  lstatOrUndefined,
  O_NOFOLLOW,
  O_NONBLOCK,
  readSmallRegularFile,
  writeFileAtomic,
} from './atomic.js';
import { assertDiskSpace } from './diskspace.js';
import {
  CacheLayoutError,
  CancelError,
  fsError,
  IoError,
  Sha256MismatchError,
  VmCacheError,
} from './errors.js';
import { sha256File } from './hash.js';
import { carryPause, forgetPaused } from './inflight.js';
import { keyIdentity, resolveKeyPath, unsafeKeyReason } from './keys.js';
import {
  forgetCacheRecords,
  lockRoot,
  readCachedManifestFile,
  readInstalledKeys,
  recordedArches,
  writeInstalledKeys,
} from './local-state.js';
import type { LockOptions } from './lock.js';
import { clearLocked } from './maintenance.js';
import { assertCacheOwned, writeCacheMarker } from './ownership.js';
import { cacheDir, cacheMarkerPath, chunkStoreDir, getCachedManifestPath, stateDir } from './paths.js';
import { TrailingThrottle } from './throttle.js';

export type MoveStep = 'copying' | 'verifying' | 'switching' | 'removing';

export interface MoveProgress {
  step: MoveStep;
  /** Bytes copied, read back, or removed so far in this step. */
  doneBytes: number;
  /** The bytes the step covers: what the move copies (for 'removing', what the old root held). */
  totalBytes: number;
}

export interface MoveVmCacheOptions {
  /** The root the app uses now. */
  from: string;
  /** The new root, decided by the caller (e.g. `<picked folder>/vm-cache`): absent, or an empty folder. */
  to: string;
  /**
   * Called once the copy at `to` is complete and verified, before anything at
   * `from` is deleted: record `to` as the root here, crash-safely (and the old
   * root, to call removeMovedVmCache with should the process die before the
   * move returns). If it throws, nothing is deleted and the copy at `to` is
   * removed again. `from` stays locked meanwhile: it must not wait for anything
   * that locks `from` (a sync or a verify of the old root).
   */
  switchRoot?: (to: string) => Promise<void>;
  /** Cancels the move at any step before the switch: the copy is removed, `from` is untouched. */
  signal?: AbortSignal;
  /** At most every 100 ms, and at every step and file boundary. */
  onProgress?: (p: MoveProgress) => void;
  /** Called once if another process holds a lock the move needs and it waits. */
  onWaitForLock?: () => void;
}

export interface MoveResult {
  /** The new root (`to`, resolved). */
  root: string;
  /** Bytes copied. */
  movedBytes: number;
  /** Files copied. */
  files: number;
  /**
   * Set when the switch happened but the old root's files could not all be
   * removed: call removeMovedVmCache({ from: root }) later (at the next start).
   */
  leftover?: { root: string; code: ErrorCode; message: string };
}

export interface RemoveMovedVmCacheOptions {
  /** The root a move switched away from. */
  from: string;
  signal?: AbortSignal;
  onWaitForLock?: () => void;
}

/** What a move records in the old root while it runs. */
interface MoveRecord {
  to: string;
  /** `to` was there (an empty folder) before the move: a discarded copy leaves it. */
  toExisted: boolean;
  /** switchRoot resolved: the cache lives at `to` from then on. */
  switched: boolean;
  startedAt: string;
}

const RECORD_NAME = 'moving-to.json';
const MOVED_FROM_NAME = 'moved-from.json';
/** `<to>/.moving-<16 hex>`: a move's staging folder. */
const STAGING = /^\.moving-[0-9a-f]{16}$/;
/** The root lock and what acquiring it leaves (lock.ts): all a fresh `<to>/state` may hold. */
const LOCK_NAME = /^sync\.lock($|\.)/;
const CHUNK_BYTES = 1 << 20;
const SMALL_FILE_BYTES = 64 << 10;

const recordPath = (root: string) => path.join(stateDir(root), RECORD_NAME);
const movedFromPath = (root: string) => path.join(stateDir(root), MOVED_FROM_NAME);
const trustPath = (root: string) => path.join(stateDir(root), 'trusted-manifests.json');

/**
 * Moves the cache at `from` to `to` (see the top of this file). Resolves once
 * the old root's files are gone; `from` itself is removed when nothing else
 * is left in it. Nothing cached at `from` is no error: the move then only
 * switches (0 bytes, a new root holding the cache's records).
 */
export async function moveVmCache(o: MoveVmCacheOptions): Promise<MoveResult> {
  const from = path.resolve(o.from);
  const to = path.resolve(o.to);
  await assertApart(from, to);
  if (o.signal?.aborted) throw cancelled(from);
  const progress = new MoveReporter(o.onProgress);
  const fromExisted = (await lstatOrUndefined(from)) !== undefined;
  const fromLock = await lockRoot(from, lockOptions(o));
  let leftRoot = false;
  try {
    const earlier = await settleEarlierMove(from, to, o, progress);
    if (earlier) {
      leftRoot = true;
      return earlier;
    }
    const plan = await planCopy(from);
    await assertTargetFree(to);
    try {
      await assertDiskSpace(to, plan.totalBytes);
    } catch (err) {
      throw fsError(`cannot check the free space at ${to}`, to, err);
    }
    const record: MoveRecord = {
      to,
      toExisted: (await lstatOrUndefined(to)) !== undefined,
      switched: false,
      startedAt: new Date().toISOString(),
    };
    await writeRecord(from, record);
    // Until the switch, any failure or cancel discards the copy: nothing at `from` has changed.
    const undo = async () => {
      await discardCopy(from, record).catch(() => {});
      await fs.rm(recordPath(from), { force: true }).catch(() => {});
    };
    let copied: Copied;
    try {
      copied = await copyToNewRoot(from, to, plan, o, progress);
      if (o.signal?.aborted) throw cancelled(from);
    } catch (err) {
      await undo();
      if (o.signal?.aborted) throw cancelled(from);
      throw err instanceof VmCacheError ? err : fsError(`cannot copy the cache to ${to}`, to, err);
    }
    try {
      await o.switchRoot?.(to);
    } catch (err) {
      await undo();
      throw err; // the caller's own failure, as it threw it
    }
    // From here the cache lives at `to`: no cancel, and a failure to remove the
    // old files no longer fails the move.
    await writeRecord(from, { ...record, switched: true }).catch(() => {});
    leftRoot = true;
    // A paused download moved with its partials: it stays paused where it now is.
    await carryPause(from, to).catch(() => {});
    const result: MoveResult = { root: to, movedBytes: copied.bytes, files: copied.files };
    const leftover = await removeOldRoot(from, plan.totalBytes, progress);
    if (leftover) result.leftover = leftover;
    return result;
  } finally {
    progress.close();
    await fromLock.release();
    if (leftRoot || !fromExisted) await removeEmptyRoot(from);
  }
}

/**
 * Removes what a move left at its old root `from` when its process died after
 * the switch (the app records the old root in its switchRoot and calls this
 * at its next start). Removes the engine's own layout only: the cached
 * manifest, its tarballs and partials (behind a linked folder only the
 * cache's own files), the state files, the root folder when that leaves it
 * empty; never a file the engine did not put there. Refuses, removing
 * nothing, a root that no move left (it holds a cache and no record of a
 * move) or whose copy never completed (CacheLayoutError). Nothing there is no
 * error.
 */
export async function removeMovedVmCache(o: RemoveMovedVmCacheOptions): Promise<{ removedBytes: number }> {
  const from = path.resolve(o.from);
  if (!(await lstatOrUndefined(from))) return { removedBytes: 0 };
  const lock = await lockRoot(from, lockOptions(o));
  let removedBytes = 0;
  try {
    const record = await readRecord(from);
    if (!record) {
      if (await holdsCacheFiles(from)) throw notLeftByMove(from);
    } else if (!record.switched && !(await wholeCopyFrom(record.to, from))) {
      throw new CacheLayoutError(
        `${from} was not removed: the move to ${record.to} did not finish its copy, so ${from} still holds the complete cache; keep using it, and move it again if you wish`,
      );
    } else {
      removedBytes = await removeLayout(from);
    }
  } finally {
    await lock.release();
  }
  await removeEmptyRoot(from);
  return { removedBytes };
}

/**
 * Removes the copy a move from `root` left at its target when its process
 * died before the switch: `root` still holds the cache and is the one in use,
 * and the copy (gigabytes, perhaps on another disk) would otherwise stay until
 * the next move from `root`. A move that got past its switch is left alone
 * (removeMovedVmCache is for its old root). The path of the copy removed, or
 * undefined when there was none. Cheap when there is none: one read, no lock.
 */
export async function discardUnfinishedMove(root: string): Promise<string | undefined> {
  const from = path.resolve(root);
  if (!(await readRecord(from))) return undefined;
  // Under the lock: a move still running (another process) holds it, and its record is its own business.
  const lock = await lockRoot(from);
  try {
    const record = await readRecord(from);
    if (!record || record.switched) return undefined;
    await discardCopy(from, record);
    await fs.rm(recordPath(from), { force: true });
    return record.to;
  } finally {
    await lock.release();
  }
}

function notLeftByMove(from: string): CacheLayoutError {
  return new CacheLayoutError(
    `${from} was not removed: it holds a cache, and no record of a move away from it; if no app uses it, remove it with \`vm-cache clear --root ${from}\``,
  );
}

function lockOptions(o: {
  signal?: AbortSignal | undefined;
  onWaitForLock?: (() => void) | undefined;
}): LockOptions {
  const options: LockOptions = { signal: o.signal };
  if (o.onWaitForLock) options.onWait = o.onWaitForLock;
  return options;
}

function cancelled(from: string): CancelError {
  return new CancelError(`move cancelled; nothing was moved and the cache is still at ${from}`);
}

// ---------------------------------------------------------------------------
// Where the cache may go

/** The path with every part that exists resolved through links, so two spellings of one folder compare equal. */
async function canonical(p: string): Promise<string> {
  let existing = p;
  const rest: string[] = [];
  for (;;) {
    try {
      const real = await fs.realpath(existing);
      return path.join(real, ...rest.reverse());
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return p;
      rest.push(path.basename(existing));
      existing = parent;
    }
  }
}

function fold(p: string): string {
  return process.platform === 'win32' || process.platform === 'darwin' ? p.toLowerCase() : p;
}

/** `inner` is `outer` or lies inside it. */
function within(inner: string, outer: string): boolean {
  const rel = path.relative(fold(outer), fold(inner));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

async function assertApart(from: string, to: string): Promise<void> {
  const a = await canonical(from);
  const b = await canonical(to);
  const refuse = (why: string) =>
    new CacheLayoutError(`cannot move the cache from ${from} to ${to}: ${why}; nothing was moved`);
  if (fold(a) === fold(b)) throw refuse('that is the folder it is in already; choose another folder');
  if (within(b, a)) throw refuse(`${to} lies inside the cache's folder; choose a folder outside ${from}`);
  if (within(a, b))
    throw refuse(`the cache's folder lies inside ${to}; choose a folder that does not hold ${from}`);
}

/** The first thing in `to` other than a dead move's staging folder and a bare lock; undefined when none. */
async function firstEntryIn(to: string): Promise<string | undefined> {
  for (const name of await fs.readdir(to)) {
    if (STAGING.test(name)) continue;
    const entry = path.join(to, name);
    if (name === 'state' && (await fs.lstat(entry)).isDirectory()) {
      // Taking the new root's lock makes `state` with the lock in it.
      const other = (await fs.readdir(entry)).find((n) => !LOCK_NAME.test(n));
      if (other === undefined) continue;
      return path.join(entry, other);
    }
    return entry;
  }
  return undefined;
}

/** `to` may be absent or an empty folder; anything else is refused, naming what is in the way. */
async function assertTargetFree(to: string): Promise<void> {
  const refuse = (why: string) =>
    new CacheLayoutError(`cannot move the cache to ${to}: ${why}; nothing was moved`);
  let st: Awaited<ReturnType<typeof lstatOrUndefined>>;
  let inside: string | undefined;
  try {
    st = await lstatOrUndefined(to);
    if (st?.isDirectory()) inside = await firstEntryIn(to);
  } catch (err) {
    throw fsError(`cannot read ${to}`, to, err);
  }
  if (!st) return;
  if (st.isSymbolicLink()) throw refuse('it is a link; choose the folder it points to, or another folder');
  if (!st.isDirectory()) throw refuse('it is a file, not a folder; choose an empty or new folder');
  if (inside !== undefined) {
    throw refuse(
      `the folder is not empty (it holds ${inside}); choose an empty or new folder, such as ${path.join(to, 'vm-cache')}`,
    );
  }
}

// ---------------------------------------------------------------------------
// What is copied

interface CopyItem {
  src: string;
  /** The path under the root, in segments. */
  rel: string[];
  size: number;
  /** A tarball the cached manifest names: checked against its sha256 at the destination. */
  tarball?: { agent: string; arch: string; key: string; sha256: string; vouched: boolean };
  /** The key this file belongs to, for the new root's ledger. */
  key?: string;
  /** A chunk index kept for the tarball with this sha256: dropped with it. */
  indexOf?: string;
}

interface CopyPlan {
  items: CopyItem[];
  totalBytes: number;
  hasManifest: boolean;
}

/** A regular file of our own at `file`, not a link, FIFO or folder: its lstat, else undefined. */
async function regularFile(file: string, ownOnly = false) {
  const st = await lstatOrUndefined(file).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  if (ownOnly && !isOwnRegularFile(st)) return undefined;
  return st;
}

const SHA256 = /^[0-9a-f]{64}$/i;

/**
 * The files of `from` that the new root needs: the cached manifest, each
 * tarball it names that is there at its size (the arches it vouches for must
 * then verify, others are dropped when they do not), the complete files of
 * other keys the engine installed, partial downloads with their sidecars, the
 * kept chunk indexes of those tarballs, and the records: trusted manifests
 * (rollback protection), what the manifest vouches for, the last sync. Links
 * and other odd files at a file's place are never followed nor copied.
 */
async function planCopy(from: string): Promise<CopyPlan> {
  const dir = cacheDir(from);
  try {
    await assertCacheOwned(from, 'move');
  } catch (err) {
    throw fsError(`cannot read ${dir}`, dir, err);
  }
  const items: CopyItem[] = [];
  const planned = new Set<string>();
  const cached = await readCachedManifestFile(from);
  let vouched: Set<string> | '*' = new Set();
  if (cached) {
    let host: string | undefined;
    try {
      host = manifestArchFor(process.arch);
    } catch {
      // An arch with no images of its own: only what the record says was checked.
    }
    vouched = (await recordedArches(from, cached.sha256)) ?? new Set(host ? [host] : []);
    for (const [agent, entry] of Object.entries(cached.manifest.agents)) {
      for (const [arch, t] of Object.entries(entry.tarballs)) {
        const { key, sha256, sizeBytes } = t;
        if (unsafeKeyReason(key) || !SHA256.test(sha256)) continue;
        if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) continue;
        const id = keyIdentity(key);
        if (planned.has(id)) continue;
        const src = resolveKeyPath(dir, key);
        const st = await regularFile(src);
        if (st?.size !== sizeBytes) continue;
        planned.add(id);
        const isVouched = vouched === '*' || vouched.has(arch);
        items.push({
          src,
          rel: ['cache', ...key.split('/')],
          size: st.size,
          key,
          tarball: { agent, arch, key, sha256: sha256.toLowerCase(), vouched: isVouched },
        });
      }
    }
  }
  const keys = new Set(await readInstalledKeys(from));
  for (const agent of Object.values(cached?.manifest.agents ?? {}))
    for (const t of Object.values(agent.tarballs)) keys.add(t.key);
  const seen = new Set<string>();
  for (const key of keys) {
    if (typeof key !== 'string' || unsafeKeyReason(key)) continue;
    const id = keyIdentity(key);
    // One file however the ledger and the manifest spell it.
    if (seen.has(id)) continue;
    seen.add(id);
    const src = resolveKeyPath(dir, key);
    const rel = ['cache', ...key.split('/')];
    // A complete file of a key the engine installed that the manifest does not vouch for
    // (verify removed the manifest): copied as it is; the next sync hashes it before trusting it.
    const whole =
      !planned.has(id) && !(cached && namedBy(cached.manifest, id))
        ? await regularFile(src, true)
        : undefined;
    if (whole) {
      planned.add(id);
      items.push({ src, rel, size: whole.size, key });
    }
    // A partial download and its sidecar, both regular files of one name: the next sync resumes it.
    const partial = await regularFile(`${src}.partial`, true);
    const sidecar = partial && (await regularFile(`${src}.partial.json`, true));
    if (partial && sidecar) {
      const last = rel.length - 1;
      items.push({
        src: `${src}.partial`,
        rel: rel.with(last, `${rel[last]}.partial`),
        size: partial.size,
        key,
      });
      items.push({
        src: `${src}.partial.json`,
        rel: rel.with(last, `${rel[last]}.partial.json`),
        size: sidecar.size,
        key,
      });
    }
  }
  const indexes = new Set<string>();
  for (const item of [...items]) {
    // Two keys may share bytes, and so one index.
    if (!item.tarball || indexes.has(item.tarball.sha256)) continue;
    indexes.add(item.tarball.sha256);
    const src = path.join(chunkStoreDir(from), `${item.tarball.sha256}.json`);
    const st = await regularFile(src);
    if (st)
      items.push({
        src,
        rel: ['state', 'chunk-indexes', `${item.tarball.sha256}.json`],
        size: st.size,
        indexOf: item.tarball.sha256,
      });
  }
  const records = ['trusted-manifests.json', 'last-sync.json', ...(cached ? ['cached-manifest.json'] : [])];
  for (const name of records) {
    const src = path.join(stateDir(from), name);
    const st = await regularFile(src);
    if (st && st.size <= SMALL_FILE_BYTES) items.push({ src, rel: ['state', name], size: st.size });
  }
  // The manifest last, as everywhere: a copy cut short never has it without its files.
  if (cached)
    items.push({
      src: getCachedManifestPath(from),
      rel: ['cache', 'vm', 'manifest.json'],
      size: cached.bytes.length,
    });
  return { items, totalBytes: items.reduce((n, i) => n + i.size, 0), hasManifest: cached !== undefined };
}

function namedBy(
  manifest: { agents: Record<string, { tarballs: Record<string, { key: string }> }> },
  id: string,
): boolean {
  return Object.values(manifest.agents).some((a) =>
    Object.values(a.tarballs).some((t) => keyIdentity(t.key) === id),
  );
}

// ---------------------------------------------------------------------------
// Copy, verify, place

interface Copied {
  bytes: number;
  files: number;
}

async function copyToNewRoot(
  from: string,
  to: string,
  plan: CopyPlan,
  o: MoveVmCacheOptions,
  progress: MoveReporter,
): Promise<Copied> {
  const { signal } = o;
  const lock = await lockRoot(to, lockOptions(o));
  try {
    // Checked again under the lock: another process may have written there meanwhile.
    await assertTargetFree(to);
    // Any staging folder here now is a dead move's: every move to `to` holds its lock.
    await removeStaging(to);
    const staging = path.join(to, `.moving-${randomBytes(8).toString('hex')}`);
    await fs.mkdir(path.join(staging, 'cache'), { recursive: true });
    await fs.mkdir(stateDir(staging), { recursive: true });

    const total = plan.totalBytes;
    let done = 0;
    progress.now('copying', 0, total);
    const sources = new Map<CopyItem, string>();
    for (const item of plan.items) {
      const dest = path.join(staging, ...item.rel);
      sources.set(
        item,
        await copyFile(item.src, dest, signal, (n) => {
          done += n;
          progress.push('copying', done, total);
        }),
      );
      progress.now('copying', done, total);
    }

    // Verify: everything read back from the new disk. The manifest is read from
    // the copy, and each tarball must match it.
    if (signal?.aborted) throw cancelled(from);
    done = 0;
    progress.now('verifying', 0, total);
    const manifest = plan.hasManifest ? await readCachedManifestFile(staging) : undefined;
    if (plan.hasManifest && !manifest) {
      throw new IoError(
        `cannot move the cache to ${to}`,
        new Error('the copy of the manifest does not read back as the manifest; nothing was moved'),
      );
    }
    const dropped = new Set<string>();
    const kept: CopyItem[] = [];
    for (const item of plan.items) {
      const dest = path.join(staging, ...item.rel);
      const got = await sha256File(dest, signal, (n) => {
        done += n;
        progress.push('verifying', done, total);
      }).catch((err) => {
        throw signal?.aborted ? cancelled(from) : err;
      });
      progress.now('verifying', done, total);
      const read = sources.get(item)!;
      const label = item.rel.join('/');
      if (item.tarball) {
        // What the copy's own manifest says this entry holds (the same bytes as the old one's, checked below).
        const entry = manifest?.manifest.agents[item.tarball.agent]?.tarballs[item.tarball.arch];
        const expected = entry?.key === item.tarball.key ? entry.sha256.toLowerCase() : item.tarball.sha256;
        if (got !== expected) {
          if (got !== read) throw badCopy(label, read, got, to, from);
          // The old cache holds other bytes than its manifest says.
          if (item.tarball.vouched) {
            throw new Sha256MismatchError(
              `${item.tarball.key} in the cache at ${from}`,
              expected,
              `the file there hashes to ${got}`,
              `the cache is damaged, so nothing was moved; repair it first (\`vm-cache verify --repair\`, or Verify in the app), then move it`,
            );
          }
          // An arch the manifest does not vouch for: never trusted, so not moved.
          dropped.add(item.tarball.sha256);
          await fs.rm(dest, { force: true });
          continue;
        }
      } else if (got !== read) {
        throw badCopy(label, read, got, to, from);
      }
      kept.push(item);
    }
    const moved = kept.filter((i) => !(i.indexOf && dropped.has(i.indexOf)));
    for (const item of kept)
      if (item.indexOf && dropped.has(item.indexOf))
        await fs.rm(path.join(staging, ...item.rel), { force: true });

    // The new root's own records: its ledger, its owner marker, and where it came from (placed last).
    await writeInstalledKeys(
      staging,
      moved.flatMap((i) => (i.key ? [i.key] : [])),
    );
    await writeCacheMarker(staging, cacheDir(to), 'folder');
    await writeFileAtomic(
      movedFromPath(staging),
      `${JSON.stringify({ from, movedAt: new Date().toISOString() }, null, 2)}\n`,
    );
    await fsyncTree(staging);
    if (signal?.aborted) throw cancelled(from);

    progress.now('switching', 0, total);
    await placeCopy(staging, to);
    return { bytes: moved.reduce((n, i) => n + i.size, 0), files: moved.length };
  } finally {
    await lock.release();
  }
}

function badCopy(label: string, read: string, got: string, to: string, from: string): Sha256MismatchError {
  return new Sha256MismatchError(
    `the copy of ${label} at ${to}`,
    read,
    `it reads back as ${got}`,
    `nothing was moved: the copy was removed and the cache is still at ${from}; check the disk at ${to}, then retry`,
  );
}

/**
 * Copies one file, never through a link at its place and never from a FIFO or
 * device, into a new file (fsynced); the sha256 of the bytes read.
 */
async function copyFile(
  src: string,
  dest: string,
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
): Promise<string> {
  let input: FileHandle;
  try {
    input = await fs.open(src, fsConstants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    throw fsError(`cannot read ${src}`, path.dirname(src), err);
  }
  try {
    if (!(await input.stat()).isFile()) {
      throw new IoError(`cannot read ${src}`, new Error('it is no longer a regular file'));
    }
    await fs.mkdir(path.dirname(dest), { recursive: true });
    const output = await fs.open(dest, 'wx');
    try {
      const hash = createHash('sha256');
      const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
      for (let position = 0; ; ) {
        if (signal?.aborted) throw new CancelError();
        const { bytesRead } = await input.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) break;
        hash.update(buffer.subarray(0, bytesRead));
        for (let written = 0; written < bytesRead; ) {
          written += (await output.write(buffer, written, bytesRead - written)).bytesWritten;
        }
        position += bytesRead;
        onBytes(bytesRead);
      }
      await output.sync();
      return hash.digest('hex');
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}

/** fsyncs every folder under `dir` (the files were fsynced as they were written). */
async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await fsyncTree(path.join(dir, entry.name));
  }
  await fsyncDir(dir);
}

/**
 * Renames the verified copy into `to`, all on the new disk: first the record
 * naming the old root (from then on the copy is known as this move's, to
 * discard should the move not finish), the other state files (the owner
 * marker among them), the cache folder, and last the staging folder goes: a
 * record without a staging folder beside it says the copy is whole.
 */
async function placeCopy(staging: string, to: string): Promise<void> {
  const names = (await fs.readdir(stateDir(staging))).filter((n) => n !== MOVED_FROM_NAME);
  for (const name of [MOVED_FROM_NAME, ...names]) {
    await fs.rename(path.join(stateDir(staging), name), path.join(stateDir(to), name));
  }
  await fs.rename(path.join(staging, 'cache'), cacheDir(to));
  await fsyncDir(stateDir(to));
  await fs.rmdir(stateDir(staging));
  await fs.rmdir(staging);
  await fsyncDir(to);
  await fsyncDir(path.dirname(to));
}

/** `to` holds a copy (whole or not) that a move from `from` placed there. */
async function madeFrom(to: string, from: string): Promise<boolean> {
  const text = await readSmallRegularFile(movedFromPath(to), SMALL_FILE_BYTES);
  try {
    const doc = JSON.parse(text ?? '') as { from?: unknown };
    return typeof doc.from === 'string' && path.resolve(doc.from) === from;
  } catch {
    return false;
  }
}

/** `to` holds the whole copy of a move from `from`: placed, and no staging folder left. */
async function wholeCopyFrom(to: string, from: string): Promise<boolean> {
  if (!(await madeFrom(to, from))) return false;
  const names = await fs.readdir(to).catch(() => [] as string[]);
  return !names.some((n) => STAGING.test(n));
}

async function removeStaging(root: string): Promise<void> {
  const names = await fs.readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    if (STAGING.test(name)) await fs.rm(path.join(root, name), { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// Records, discarding a copy, removing a root

async function readRecord(root: string): Promise<MoveRecord | undefined> {
  const text = await readSmallRegularFile(recordPath(root), SMALL_FILE_BYTES);
  try {
    const doc = JSON.parse(text ?? '') as Partial<MoveRecord>;
    if (typeof doc.to !== 'string' || !path.isAbsolute(doc.to)) return undefined;
    return {
      to: doc.to,
      toExisted: doc.toExisted === true,
      switched: doc.switched === true,
      startedAt: String(doc.startedAt ?? ''),
    };
  } catch {
    return undefined;
  }
}

async function writeRecord(root: string, record: MoveRecord): Promise<void> {
  try {
    await writeFileAtomic(recordPath(root), `${JSON.stringify(record, null, 2)}\n`);
  } catch (err) {
    throw fsError(`cannot write ${recordPath(root)}`, stateDir(root), err);
  }
}

/**
 * A move from `from` that an earlier process began (under `from`'s lock, so
 * that process is gone). Before its switch, its copy is discarded (the caller
 * moving from `from` says `from` is the root in use). After it, the cache
 * lives at the record's `to`: the same move is finished (switch again, then
 * remove the old files); another is refused.
 */
async function settleEarlierMove(
  from: string,
  to: string,
  o: MoveVmCacheOptions,
  progress: MoveReporter,
): Promise<MoveResult | undefined> {
  const record = await readRecord(from);
  if (!record) return undefined;
  if (!record.switched) {
    await discardCopy(from, record);
    await fs.rm(recordPath(from), { force: true });
    return undefined;
  }
  if (record.to !== to || !(await wholeCopyFrom(to, from))) {
    throw new CacheLayoutError(
      `the cache at ${from} was moved to ${record.to} by a move that did not finish removing it; use ${record.to} as the cache's root (\`--root ${record.to}\`), and remove what is left at ${from} with removeMovedVmCache (or \`vm-cache move --root ${from} --to ${record.to}\` again)`,
    );
  }
  progress.now('switching', 0, 0);
  await o.switchRoot?.(to);
  const result: MoveResult = { root: to, movedBytes: 0, files: 0 };
  const leftover = await removeOldRoot(from, 0, progress);
  if (leftover) result.leftover = leftover;
  return result;
}

/**
 * Removes a copy that was never switched to: the staging folders in `to`, and
 * what the copy placed there unless `to` is now another move's root; `to`
 * itself when the move made it.
 */
async function discardCopy(from: string, record: MoveRecord): Promise<void> {
  const to = record.to;
  if (!(await lstatOrUndefined(to))?.isDirectory()) return;
  const lock = await lockRoot(to);
  try {
    await removeStaging(to);
    // Without its record, the copy placed nothing yet (the record goes first); with another root's, `to` is not ours.
    if (await madeFrom(to, from)) await removeLayout(to);
  } finally {
    await lock.release();
  }
  await fs.rmdir(stateDir(to)).catch(() => {});
  if (!record.toExisted) await fs.rmdir(to).catch(() => {});
}

/**
 * Removes the engine's layout of `root` (under its lock): the manifest first,
 * the cache's files (behind a folder link only its own, the links kept), the
 * records, the owner marker, the move records last. The bytes of the cache's
 * files removed.
 */
async function removeLayout(root: string): Promise<number> {
  let removed = 0;
  const marked = (await lstatOrUndefined(cacheMarkerPath(root))) !== undefined;
  try {
    removed = await clearLocked(root);
  } catch (err) {
    // Without the marker (a removal cut short after it went), what is left
    // behind a linked folder is no longer provably the cache's: it stays.
    if (!(err instanceof CacheLayoutError) || marked) throw err;
  }
  await forgetCacheRecords(root);
  await forgetPaused(root);
  for (const file of [trustPath(root), cacheMarkerPath(root), movedFromPath(root)])
    await fs.rm(file, { force: true });
  await removeStaging(root);
  await fs.rm(recordPath(root), { force: true });
  return removed;
}

/** After the switch: the old root's files go; a failure is reported, not thrown (the move itself succeeded). */
async function removeOldRoot(
  from: string,
  totalBytes: number,
  progress: MoveReporter,
): Promise<MoveResult['leftover']> {
  progress.now('removing', 0, totalBytes);
  try {
    await removeLayout(from);
    progress.now('removing', totalBytes, totalBytes);
    return undefined;
  } catch (err) {
    const coded = err instanceof VmCacheError ? err : fsError(`cannot remove ${from}`, from, err);
    return { root: from, code: coded.code, message: coded.message };
  }
}

/** The old root's folders once empty (the lock released), and the root itself when nothing else is in it. */
async function removeEmptyRoot(root: string): Promise<void> {
  await fs.rmdir(chunkStoreDir(root)).catch(() => {});
  await fs.rmdir(stateDir(root)).catch(() => {});
  await fs.rmdir(cacheDir(root)).catch(() => {});
  await fs.rmdir(root).catch(() => {});
}

/** A root with a cache of its own: a manifest, the owner marker, or any state file beyond a bare lock. */
async function holdsCacheFiles(root: string): Promise<boolean> {
  if (await lstatOrUndefined(getCachedManifestPath(root)).catch(() => undefined)) return true;
  const names = await fs.readdir(stateDir(root)).catch(() => [] as string[]);
  return names.some((n) => !LOCK_NAME.test(n));
}

// ---------------------------------------------------------------------------

/** Progress at most every 100 ms, and at once at every step and file boundary. */
class MoveReporter {
  private readonly throttle: TrailingThrottle<MoveProgress> | undefined;

  constructor(listener: ((p: MoveProgress) => void) | undefined) {
    this.throttle = listener
      ? new TrailingThrottle<MoveProgress>(100, (p) => {
          try {
            listener(p);
          } catch {
            // A broken listener must not break the move.
          }
        })
      : undefined;
  }

  push(step: MoveStep, doneBytes: number, totalBytes: number): void {
    this.throttle?.push({ step, doneBytes, totalBytes });
  }

  now(step: MoveStep, doneBytes: number, totalBytes: number): void {
    this.throttle?.pushNow({ step, doneBytes, totalBytes });
  }

  close(): void {
    this.throttle?.close();
  }
}
