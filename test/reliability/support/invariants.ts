// What must hold on disk at any moment, even right after a SIGKILL:
// - a final tarball path is absent or holds exactly the verified bytes;
// - manifest.json exists only if it is a document the server published and
//   every tarball it names for this host is present and verified;
// - no stray files: per key at most its .partial and .partial.json, at most one
//   *.tmp in all (the one a killed write was making), nothing but cache/ and
//   state/ in the root.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { listFiles } from '../../helpers.js';
import { sha256OfFile } from './hash.js';

export interface KnownTarball {
  sha256: string;
  sizeBytes: number;
}

export interface CacheExpectation {
  /** Every tarball the server ever published in this test, by key. */
  known: Map<string, KnownTarball>;
  /** The exact manifest texts the server published. */
  manifests: Set<string>;
  /** The manifest arch of this host ('x64' here), or '*' for all arches. */
  arch: string;
}

export interface CacheReport {
  violations: string[];
  /** Keys whose final file is present (and verified, unless a violation says otherwise). */
  tarballs: string[];
  partials: string[];
  tmpFiles: string[];
  manifest: string | undefined;
}

// Our own records: the lock, the last sync, the newest manifest accepted per
// source (rollback protection), the arches the cached manifest vouches for,
// the marker that says the engine made the cache folder, and the ledger of
// the keys it put there.
const STATE_FILES = new Set([
  'sync.lock',
  'last-sync.json',
  'trusted-manifests.json',
  'cached-manifest.json',
  'cache-owner.json',
  'installed-keys.json',
]);

export async function inspectCache(root: string, exp: CacheExpectation): Promise<CacheReport> {
  const violations: string[] = [];
  const tarballs: string[] = [];
  const partials: string[] = [];
  const tmpFiles: string[] = [];
  const verified = new Set<string>();
  let staleLocks = 0;

  for (const entry of await readdir(root).catch(() => [] as string[])) {
    if (entry !== 'cache' && entry !== 'state') violations.push(`unexpected entry in the root: ${entry}`);
    else if (!(await stat(path.join(root, entry))).isDirectory()) violations.push(`${entry} is not a folder`);
  }

  const cache = path.join(root, 'cache');
  for (const rel of await listFiles(cache)) {
    const known = exp.known.get(rel);
    if (rel === 'vm/manifest.json') continue;
    if (rel.endsWith('.tmp')) {
      tmpFiles.push(`cache/${rel}`);
    } else if (known) {
      tarballs.push(rel);
      const file = path.join(cache, rel);
      const size = (await stat(file)).size;
      if (size !== known.sizeBytes)
        violations.push(`${rel}: ${size} bytes at the final path, expected ${known.sizeBytes}`);
      else if ((await sha256OfFile(file)) !== known.sha256)
        violations.push(`${rel}: wrong bytes at the final path`);
      else verified.add(rel);
    } else if (rel.endsWith('.partial') && exp.known.has(rel.slice(0, -'.partial'.length))) {
      partials.push(rel);
      const limit = exp.known.get(rel.slice(0, -'.partial'.length))!.sizeBytes;
      const size = (await stat(path.join(cache, rel))).size;
      if (size > limit) violations.push(`${rel}: ${size} bytes, more than the ${limit} declared`);
    } else if (rel.endsWith('.partial.json') && exp.known.has(rel.slice(0, -'.partial.json'.length))) {
      partials.push(rel);
    } else {
      violations.push(`stray file in the cache: ${rel}`);
    }
  }

  for (const rel of await listFiles(path.join(root, 'state'))) {
    if (STATE_FILES.has(rel)) continue;
    // A lock attempt (`sync.lock.<pid>.<token>.new`) left by a process killed
    // on its way to the lock is a temp file too: at most one may be there.
    if (rel.endsWith('.tmp') || /^sync\.lock\.\d+\.[0-9a-f]+\.new$/.test(rel)) tmpFiles.push(`state/${rel}`);
    else if (rel.startsWith('sync.lock.stale-')) staleLocks++;
    else violations.push(`stray file in the state folder: ${rel}`);
  }
  if (tmpFiles.length > 1) violations.push(`temp files pile up: ${tmpFiles.join(', ')}`);
  if (staleLocks > 1) violations.push(`${staleLocks} stale lock files pile up`);

  let manifest: string | undefined;
  try {
    manifest = await readFile(path.join(cache, 'vm', 'manifest.json'), 'utf8');
  } catch {
    manifest = undefined;
  }
  if (manifest !== undefined) {
    if (!exp.manifests.has(manifest)) violations.push('manifest.json is not a document the server published');
    else {
      for (const key of tarballsFor(JSON.parse(manifest), exp.arch)) {
        if (!verified.has(key))
          violations.push(`manifest.json names ${key}, which is not present and verified`);
      }
    }
  }
  return { violations, tarballs, partials, tmpFiles, manifest };
}

/** The keys a (valid) manifest names for `arch` ('*' for every arch). */
export function tarballsFor(doc: unknown, arch: string): string[] {
  const agents = (doc as { agents: Record<string, { tarballs: Record<string, { key: string }> }> }).agents;
  const keys: string[] = [];
  for (const agent of Object.values(agents)) {
    for (const [a, t] of Object.entries(agent.tarballs)) if (arch === '*' || a === arch) keys.push(t.key);
  }
  return keys;
}
