// A manifest key becomes a path on disk and a URL, so it is hostile input until
// proven otherwise. Rules are strict enough for every OS we ship to, so a key
// accepted on Linux is also safe on Windows and macOS.
import path from 'node:path';
import { ATOMIC_TEMP_NAME } from './atomic.js';
import { UnsafeKeyError } from './errors.js';
import { MANIFEST_KEY } from './paths.js';

const MAX_KEY_LENGTH = 1024;
const MAX_SEGMENT_LENGTH = 255;
// Windows device names are unsafe in any folder, with or without an extension.
// Windows also takes the superscript digits ¹ ² ³ as the port number (COM¹ is COM1).
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3])(\..*)?$/i;
// Control characters and the characters Windows forbids in names.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f<>:"|?*\\]/;
// Our own bookkeeping lives beside the tarballs (`<key>.partial`, its
// `.partial.json` sidecar, atomic writes' `.tmp`). No segment may carry these
// suffixes, or a key could be another key's partial, or a folder where one must go.
const RESERVED_SUFFIXES = ['.partial', '.partial.json', '.tmp'];
const MANIFEST_FOLDER = MANIFEST_KEY.slice(0, MANIFEST_KEY.lastIndexOf('/'));
/** Files the engine writes in the cache itself; a key may neither be one nor lie under one. */
const RESERVED_FILES = [MANIFEST_KEY, `${MANIFEST_KEY}.sig`];

/**
 * The one name a key has on every disk we ship to: macOS and Windows ignore
 * case and treat NFC and NFD spellings as one file, so `IMG/A`, `img/a` and
 * `img/ä` in either normal form must compare as the same file. Upper then
 * lower case also folds what lower case alone misses (ς and σ, ß and ss):
 * treating more names as one only refuses or keeps more, never deletes a file.
 */
export function keyIdentity(key: string): string {
  return key.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}

/** Returns why `key` is unsafe, or undefined when it is fine. */
export function unsafeKeyReason(key: unknown): string | undefined {
  if (typeof key !== 'string') return 'not a string';
  if (key.length === 0) return 'empty';
  if (key.length > MAX_KEY_LENGTH) return `longer than ${MAX_KEY_LENGTH} characters`;
  if (key.includes('\0')) return 'contains NUL';
  // A lone surrogate has no UTF-8 form: no file name, no URL.
  if (!key.isWellFormed()) return 'contains a lone UTF-16 surrogate';
  if (key.includes('\\')) return 'contains a backslash';
  if (/^[a-zA-Z]:/.test(key)) return 'starts with a drive letter';
  if (key.startsWith('/')) return 'is an absolute path';
  if (FORBIDDEN_CHARS.test(key)) return 'contains a control or reserved character';
  const id = keyIdentity(key);
  if (RESERVED_FILES.includes(id)) return 'names the manifest itself';
  if (id === MANIFEST_FOLDER) return `names the folder that holds the manifest (${MANIFEST_FOLDER}/)`;
  if (RESERVED_FILES.some((f) => id.startsWith(`${f}/`))) return 'lies under the manifest file';
  for (const segment of key.split('/')) {
    if (segment === '') return 'has an empty path segment';
    if (segment === '.' || segment === '..') return `has a "${segment}" segment`;
    if (segment.length > MAX_SEGMENT_LENGTH)
      return `has a segment longer than ${MAX_SEGMENT_LENGTH} characters`;
    if (/[. ]$/.test(segment)) return 'has a segment ending in a dot or space';
    if (WINDOWS_DEVICE.test(segment)) return 'names a Windows device';
    const folded = keyIdentity(segment);
    const suffix = RESERVED_SUFFIXES.find((s) => folded.endsWith(s));
    if (suffix) return `has a segment ending with the reserved suffix ${suffix}`;
  }
  return undefined;
}

/**
 * The first key of one manifest that cannot live in the same cache as the
 * others, and why; undefined when they all can. Each key must be its own
 * file: no key may be a folder of another (`img/a` and `img/a/b`), and no two
 * spellings may name the same file on a case- or normalization-insensitive
 * disk (`IMG/A` and `img/a`). The same key twice is fine (two entries may
 * share bytes). Keys that unsafeKeyReason refuses are left out: they are
 * refused, or never used, on their own.
 */
export function findKeyCollision(keys: Iterable<unknown>): { key: string; reason: string } | undefined {
  const byIdentity = new Map<string, string>();
  for (const key of keys) {
    if (typeof key !== 'string' || unsafeKeyReason(key)) continue;
    const id = keyIdentity(key);
    const seen = byIdentity.get(id);
    if (seen !== undefined && seen !== key) {
      return {
        key,
        reason: `names the same file as key ${JSON.stringify(seen)} on macOS and Windows (they differ only in case or Unicode normalization)`,
      };
    }
    byIdentity.set(id, key);
  }
  for (const [id, key] of byIdentity) {
    // Every folder on the way to this key must not be a key itself.
    for (let cut = id.indexOf('/'); cut !== -1; cut = id.indexOf('/', cut + 1)) {
      const file = byIdentity.get(id.slice(0, cut));
      if (file !== undefined) {
        return { key, reason: `needs ${JSON.stringify(file)}, another key's file, to be a folder` };
      }
    }
  }
  return undefined;
}

export function assertSafeKey(key: string): void {
  const reason = unsafeKeyReason(key);
  if (reason) throw new UnsafeKeyError(key, reason);
}

/** The absolute path of `key` under `cacheDir`; throws unless it stays inside. */
export function resolveKeyPath(cacheDir: string, key: string): string {
  assertSafeKey(key);
  const resolved = path.resolve(cacheDir, ...key.split('/'));
  const rel = path.relative(cacheDir, resolved);
  // Belt and braces: the rules above already exclude this.
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new UnsafeKeyError(key, 'resolves outside the cache');
  }
  return resolved;
}

/** The URL of `key` under the artifact root, one encoded segment at a time. */
export function keyUrl(artifactRoot: string, key: string): string {
  return `${artifactRoot}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * A name the engine made (folded ids): a key it put there, the partial or
 * sidecar of such a key, a temp file of its atomic writes. Judged on the name
 * and the keys, never the suffix alone: a user's `film.mkv.partial` is theirs.
 */
export function isOurs(id: string, ourIds: Set<string>): boolean {
  if (ourIds.has(id)) return true;
  const of = partialOf(id);
  if (of !== undefined) return ourIds.has(of);
  return ATOMIC_TEMP_NAME.test(id.slice(id.lastIndexOf('/') + 1));
}

/** The key a `.partial` or `.partial.json` belongs to (folded), or undefined. */
export function partialOf(id: string): string | undefined {
  if (id.endsWith('.partial.json')) return id.slice(0, -'.partial.json'.length);
  if (id.endsWith('.partial')) return id.slice(0, -'.partial'.length);
  return undefined;
}
