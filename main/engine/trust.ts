// Rollback and freeze protection, in the manner of TUF: the cache remembers
// the newest manifest it has accepted from each source and refuses to go
// backwards, and a manifest may carry an expiry after which a replayed copy is
// refused. A signature proves who wrote a manifest, not that it is current:
// without this, an attacker (or a slow second process) could serve last
// month's validly signed manifest and the cache would downgrade and prune.
//
// Ordering uses the signed fields: `manifestVersion` (optional, a whole number
// the publisher raises with every manifest; when both sides have one it decides)
// and otherwise `updatedAt` (ISO 8601, written by `vm-cache manifest build`).
// A publisher rolls back deliberately by publishing a *newer* manifest that
// names the older tarballs; an old file restored from a backup is refused.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { ManifestExpiredError, ManifestInvalidError, RollbackError } from './errors.js';
import { sha256Hex } from './hash.js';
import type { VmManifest } from './manifest.js';
import { stateDir } from './paths.js';

/** What the cache accepted last from one source. */
export interface TrustedManifest {
  updatedAt: string;
  version?: number;
  /** sha256 of the manifest bytes as received. */
  sha256: string;
}

interface TrustFile {
  sources: Record<string, TrustedManifest>;
}

/** A cache rarely sees more than a channel or two; the oldest records go first beyond this. */
const MAX_SOURCES = 32;

function trustPath(root: string): string {
  return path.join(stateDir(root), 'trusted-manifests.json');
}

/** Query and fragment are dropped: a rotating token must not reset what is trusted. */
export function sourceId(manifestUrl: string): string {
  try {
    const u = new URL(manifestUrl);
    u.search = '';
    u.hash = '';
    return u.toString();
  } catch {
    return manifestUrl;
  }
}

export function describeManifest(manifest: VmManifest, bytes: Buffer | string): TrustedManifest {
  const version = manifest.manifestVersion;
  return {
    updatedAt: manifest.updatedAt,
    ...(typeof version === 'number' ? { version } : {}),
    sha256: sha256Hex(bytes),
  };
}

async function readTrustFile(root: string): Promise<TrustFile> {
  try {
    const parsed = JSON.parse(await fs.readFile(trustPath(root), 'utf8')) as Partial<TrustFile>;
    if (parsed && typeof parsed.sources === 'object' && parsed.sources !== null) {
      return { sources: parsed.sources };
    }
  } catch {
    // Absent or unreadable: nothing remembered yet (the sync then starts from its cached manifest).
  }
  return { sources: {} };
}

export async function readTrusted(root: string, manifestUrl: string): Promise<TrustedManifest | undefined> {
  const record = (await readTrustFile(root)).sources[sourceId(manifestUrl)];
  return record && typeof record.updatedAt === 'string' && typeof record.sha256 === 'string'
    ? record
    : undefined;
}

/** Remembers `accepted` for `manifestUrl` (no write when it is what is remembered). Called under the root's lock. */
export async function rememberAccepted(
  root: string,
  manifestUrl: string,
  accepted: TrustedManifest,
): Promise<void> {
  const file = await readTrustFile(root);
  const id = sourceId(manifestUrl);
  if (file.sources[id]?.sha256 === accepted.sha256) return;
  delete file.sources[id];
  file.sources[id] = accepted;
  const ids = Object.keys(file.sources);
  for (const old of ids.slice(0, Math.max(0, ids.length - MAX_SOURCES))) delete file.sources[old];
  await writeFileAtomic(trustPath(root), `${JSON.stringify(file, null, 2)}\n`);
}

/** Why `candidate` would take the cache backwards from `trusted`, or undefined when it may be accepted. */
export function rollbackReason(candidate: TrustedManifest, trusted: TrustedManifest): string | undefined {
  if (candidate.sha256 === trusted.sha256) return undefined;
  if (candidate.version !== undefined && trusted.version !== undefined) {
    if (candidate.version < trusted.version)
      return `its manifestVersion ${candidate.version} is older than ${trusted.version}, which this cache already accepted`;
    if (candidate.version === trusted.version)
      return `its manifestVersion ${candidate.version} was already accepted with different content`;
    return undefined;
  }
  const was = Date.parse(trusted.updatedAt);
  const now = Date.parse(candidate.updatedAt);
  if (!Number.isNaN(was) && !Number.isNaN(now) && now < was)
    return `it was updated at ${candidate.updatedAt}, before ${trusted.updatedAt}, which this cache already accepted`;
  return undefined;
}

export function assertNotRollback(
  candidate: TrustedManifest,
  trusted: TrustedManifest | undefined,
  url: string,
): void {
  const reason = trusted && rollbackReason(candidate, trusted);
  if (reason) {
    throw new RollbackError(
      `refused the manifest at ${url}: ${reason}; this looks like a rollback (a stale mirror, a replay or an attack), so the cache was left as it was. A publisher who means to go back publishes a newer manifest naming the older tarballs`,
    );
  }
}

/** Refuses a manifest whose own `expiresAt` has passed (TUF's freeze protection). */
export function assertNotExpired(manifest: VmManifest, url: string, now = Date.now()): void {
  const expiresAt = manifest.expiresAt;
  if (expiresAt === undefined) return;
  const at = Date.parse(expiresAt);
  if (Number.isNaN(at)) {
    throw new ManifestInvalidError(
      `invalid manifest at ${url}: field expiresAt: expected an ISO 8601 date; the cache was left as it was`,
    );
  }
  if (at <= now) {
    throw new ManifestExpiredError(
      `refused the manifest at ${url}: it expired at ${expiresAt}; a stale copy is being served (a frozen mirror or a replay). The cache was left as it was; the publisher must publish a fresh manifest`,
    );
  }
}

/**
 * Refuses a manifest older than the cached one. Both sides are compared as
 * the cache stores a manifest (the document pretty-printed), so the same
 * document in another layout is the same manifest. For a cache that has no
 * record yet (made by an earlier version), and for `vm-cache import`, whose
 * sources (a folder, a USB stick) have no identity to remember.
 */
export function assertNotOlderThanCached(
  manifest: VmManifest,
  doc: Record<string, unknown>,
  cached: { manifest: VmManifest; bytes: Buffer },
  label: string,
): void {
  assertNotRollback(
    describeManifest(manifest, `${JSON.stringify(doc, null, 2)}\n`),
    describeManifest(cached.manifest, cached.bytes),
    label,
  );
}
