// A manifest key becomes a path on disk and a URL, so it is hostile input until
// proven otherwise. Rules are strict enough for every OS we ship to, so a key
// accepted on Linux is also safe on Windows.
import path from 'node:path';
import { UnsafeKeyError } from './errors.js';
import { MANIFEST_KEY } from './paths.js';

const MAX_KEY_LENGTH = 1024;
const MAX_SEGMENT_LENGTH = 255;
// Windows device names are unsafe in any folder, with or without an extension.
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
// Control characters and the characters Windows forbids in names.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f<>:"|?*\\]/;
// Our own bookkeeping lives beside the tarballs; a key must never overwrite it.
const RESERVED_SUFFIXES = ['.partial', '.partial.json', '.tmp'];
const RESERVED_KEYS = new Set([MANIFEST_KEY, `${MANIFEST_KEY}.sig`]);

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
  if (RESERVED_KEYS.has(key.toLowerCase())) return 'names the manifest itself';
  if (RESERVED_SUFFIXES.some((s) => key.toLowerCase().endsWith(s))) return 'ends with a reserved suffix';
  for (const segment of key.split('/')) {
    if (segment === '') return 'has an empty path segment';
    if (segment === '.' || segment === '..') return `has a "${segment}" segment`;
    if (segment.length > MAX_SEGMENT_LENGTH)
      return `has a segment longer than ${MAX_SEGMENT_LENGTH} characters`;
    if (/[. ]$/.test(segment)) return 'has a segment ending in a dot or space';
    if (WINDOWS_DEVICE.test(segment)) return 'names a Windows device';
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
