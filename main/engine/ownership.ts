// Prune and Clear delete what they find under `<root>/cache`, so they must
// only ever run on a folder the engine made: with `--root /var` they would
// otherwise empty /var/cache. A marker in `<root>/state` records the claim,
// tied to where a `<root>/cache` link points, so one re-pointed at another
// folder is judged afresh.
// Caches made by versions without the marker are adopted only when they are
// clearly ours; anything else is refused, naming the folder.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { lstatOrUndefined, readSmallRegularFile, writeFileAtomic } from './atomic.js';
import { CacheLayoutError, fsError } from './errors.js';
import { isOurs, keyIdentity, partialOf } from './keys.js';
import { VmManifestSchema } from './manifest.js';
import { cacheDir, cacheMarkerPath, MANIFEST_KEY, MAX_MANIFEST_BYTES, stateDir } from './paths.js';
import { walkCache } from './walk.js';

const MANAGED_BY = 'electron-vm-cache';
const SMALL_FILE_BYTES = 64 << 10;

export type CacheOwnership =
  /** No `<root>/cache` at all. */
  | { state: 'absent' }
  /** Something other than a folder (or a link to one) is there. */
  | { state: 'not-a-folder'; detail: string }
  /** Our marker says it is ours. */
  | { state: 'marked' }
  /** A folder (or link to one) holding no files, only empty folders. */
  | { state: 'empty' }
  /** No marker, but an earlier version's cache: ours to adopt. */
  | { state: 'adoptable' }
  /** Holds at least this file, which we did not put there. */
  | { state: 'foreign'; example: string };

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * What the marker is tied to: where a `<root>/cache` link points, so one
 * re-pointed at another folder is judged afresh. A real folder needs nothing
 * more: a root copied or restored elsewhere (a new disk, a backup) is still
 * the cache's own.
 */
async function folderIdentity(dir: string): Promise<string> {
  const st = await fs.lstat(dir);
  return st.isSymbolicLink() ? `link to ${await fs.readlink(dir)}` : 'folder';
}

/**
 * 'match' when our marker names this very folder; 'mismatch' when it names
 * another (`<root>/cache` is a link that now points elsewhere, or the folder
 * was replaced), which proves nothing about what is there now.
 */
async function markerFor(root: string): Promise<'match' | 'mismatch' | 'none'> {
  const doc = parseJson(await readSmallRegularFile(cacheMarkerPath(root), SMALL_FILE_BYTES)) as
    | { managedBy?: unknown; folder?: unknown }
    | undefined;
  if (doc?.managedBy !== MANAGED_BY) return 'none';
  return doc.folder === (await folderIdentity(cacheDir(root))) ? 'match' : 'mismatch';
}

/** An earlier version recorded a completed sync of this root: its cache folder is ours. */
async function hasLastSyncRecord(root: string): Promise<boolean> {
  const text = await readSmallRegularFile(path.join(stateDir(root), 'last-sync.json'), SMALL_FILE_BYTES);
  const doc = parseJson(text) as { at?: unknown; manifestUrl?: unknown; downloaded?: unknown } | undefined;
  return typeof doc?.at === 'string' && typeof doc.manifestUrl === 'string' && Array.isArray(doc.downloaded);
}

/** The manifest, its signature and the keys it names (folded), or none without a manifest that parses as ours. */
async function cachedKeys(dir: string): Promise<Set<string>> {
  const text = await readSmallRegularFile(path.join(dir, ...MANIFEST_KEY.split('/')), MAX_MANIFEST_BYTES);
  const parsed = VmManifestSchema.safeParse(parseJson(text));
  if (!parsed.success) return new Set();
  const keys = new Set([MANIFEST_KEY, `${MANIFEST_KEY}.sig`]);
  for (const agent of Object.values(parsed.data.agents)) {
    for (const tarball of Object.values(agent.tarballs)) keys.add(keyIdentity(tarball.key));
  }
  return keys;
}

async function isOurSidecar(file: string): Promise<boolean> {
  const doc = parseJson(await readSmallRegularFile(file, SMALL_FILE_BYTES)) as
    | { sha256?: unknown; sizeBytes?: unknown }
    | undefined;
  return typeof doc?.sha256 === 'string' && typeof doc.sizeBytes === 'number';
}

/**
 * Whether `<root>/cache` is the engine's. Without the marker, a folder is
 * adopted when `<root>/state/last-sync.json` is our record, or when every
 * file in it is ours: the cached manifest (parsing as ours), its signature,
 * tarballs it names, partials beside a sidecar of ours, atomic-write temp
 * files. Stops at the first file that is not.
 */
export async function inspectCacheOwnership(root: string): Promise<CacheOwnership> {
  const dir = cacheDir(root);
  const own = await lstatOrUndefined(dir);
  if (!own) return { state: 'absent' };
  const st = await fs.stat(dir).catch(() => undefined);
  if (!st?.isDirectory())
    return { state: 'not-a-folder', detail: own.isSymbolicLink() ? 'a link to no folder' : 'a file' };
  const marker = await markerFor(root);
  if (marker === 'match') return { state: 'marked' };
  // Our record of a sync vouches for the folder of an earlier version (no
  // marker at all), never for one the marker says is another folder.
  const legacy = marker === 'none' && (await hasLastSyncRecord(root));
  let keys: Promise<Set<string>> | undefined;
  let files = 0;
  for await (const entry of walkCache(dir)) {
    if (entry.kind === 'dir' || entry.kind === 'dir-link') continue;
    files++;
    if (legacy) break;
    keys ??= cachedKeys(dir);
    if (!(await madeByEngine(dir, entry.rel, await keys))) return { state: 'foreign', example: entry.abs };
  }
  if (files === 0) return { state: 'empty' };
  return { state: 'adoptable' };
}

/** A name the engine makes (see isOurs), or a partial of a key no manifest names any more, beside a sidecar of ours. */
async function madeByEngine(dir: string, rel: string, keys: Set<string>): Promise<boolean> {
  const id = keyIdentity(rel);
  if (isOurs(id, keys)) return true;
  if (partialOf(id) === undefined) return false;
  const abs = path.join(dir, ...rel.split('/'));
  return isOurSidecar(id.endsWith('.partial.json') ? abs : `${abs}.json`);
}

function refusal(dir: string, verdict: CacheOwnership, action: string, outcome: string): CacheLayoutError {
  if (verdict.state === 'not-a-folder') {
    return new CacheLayoutError(
      `cannot ${action} ${dir}: it is ${verdict.detail}, not a folder; ${outcome}. Remove or rename it, or choose another root`,
    );
  }
  const example = verdict.state === 'foreign' ? verdict.example : dir;
  return new CacheLayoutError(
    `refusing to ${action} ${dir}: it holds ${example}, which electron-vm-cache did not put there; ${outcome}. Choose a root of the cache's own (--root, the root option or VM_CACHE_ROOT), or move those files out of ${dir}`,
  );
}

/**
 * Makes `<root>/cache` the engine's before a sync or an import touches it
 * (call under the root's lock): creates it with its marker when absent or
 * empty, adopts an earlier version's cache, and throws CacheLayoutError
 * naming the folder for anything else, before anything is written there.
 */
export async function claimCacheDir(root: string): Promise<void> {
  const dir = cacheDir(root);
  let verdict: CacheOwnership;
  try {
    verdict = await inspectCacheOwnership(root);
  } catch (err) {
    throw fsError(`cannot read ${dir}`, dir, err);
  }
  if (verdict.state === 'marked') return;
  if (verdict.state === 'not-a-folder' || verdict.state === 'foreign') {
    throw refusal(dir, verdict, 'use as the VM cache', 'nothing was downloaded or changed');
  }
  try {
    if (verdict.state === 'absent') await fs.mkdir(dir, { recursive: true });
    await writeCacheMarker(root, dir, await folderIdentity(dir));
  } catch (err) {
    throw fsError(`cannot set up ${dir}`, dir, err);
  }
}

/**
 * Writes the marker into `<root>/state`, saying the cache folder `dir` (as
 * `folder`: 'folder', or where its link points) is the engine's. A move
 * writes it into its staging folder for the cache's new place.
 */
export async function writeCacheMarker(root: string, dir: string, folder: string): Promise<void> {
  await writeFileAtomic(
    cacheMarkerPath(root),
    `${JSON.stringify({ managedBy: MANAGED_BY, cacheDir: dir, folder, claimedAt: new Date().toISOString() }, null, 2)}\n`,
  );
}

/**
 * For Prune, Clear and Move: true when `<root>/cache` is ours to delete from
 * (marked, empty, or an earlier version's), false when there is none.
 * Throws CacheLayoutError naming the folder otherwise. Writes nothing.
 */
export async function assertCacheOwned(root: string, action: 'prune' | 'clear' | 'move'): Promise<boolean> {
  const verdict = await inspectCacheOwnership(root);
  if (verdict.state === 'absent') return false;
  if (verdict.state === 'not-a-folder' || verdict.state === 'foreign') {
    throw refusal(
      cacheDir(root),
      verdict,
      action,
      action === 'move' ? 'nothing was moved' : 'nothing was deleted',
    );
  }
  return true;
}
