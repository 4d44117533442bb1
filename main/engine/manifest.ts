// The manifest (schema version 2), validated at two levels: the whole document
// for shape, and in full only the entries this host will download, so another
// arch's placeholder ("sha256": "unused") never fails a sync that ignores it.
import { z } from 'zod';
import { ManifestInvalidError, UnsafeKeyError } from './errors.js';
import { findKeyCollision, keyIdentity, unsafeKeyReason } from './keys.js';

export const SCHEMA_VERSION = 2;
/** A sane ceiling for one artifact: 1 TiB. Anything above is a broken or hostile manifest. */
export const MAX_ARTIFACT_BYTES = 2 ** 40;

// JSON.parse makes "__proto__" an own key; copied into a plain object it would
// set the prototype instead. Such names are refused outright.
const DANGEROUS_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
const name = z
  .string()
  .min(1)
  .refine((s) => !DANGEROUS_NAMES.has(s), { message: 'reserved name' });

/** A chunk index is about 0.1 % of its tarball: 64 MiB covers tens of GiB. */
export const MAX_CHUNK_INDEX_BYTES = 64 << 20;

const TarballShape = z.looseObject({
  key: z.string(),
  sha256: z.string(),
  sizeBytes: z.number(),
  /** Optional (issue #15): where the tarball's chunk index is published, and its bytes. Signed with the rest. */
  chunkIndex: z.looseObject({ key: z.string(), sha256: z.string(), sizeBytes: z.number() }).optional(),
});

const AgentShape = z.looseObject({
  image: z.string().optional(),
  version: z.string(),
  tarballs: z.record(name, TarballShape),
});

export const VmManifestSchema = z.looseObject({
  schemaVersion: z.literal(SCHEMA_VERSION),
  updatedAt: z.string(),
  /** Optional counter the publisher raises with every manifest: orders manifests for rollback protection. */
  manifestVersion: z.number().int().nonnegative().optional(),
  /** Optional ISO 8601 expiry: a copy served after it is refused (freeze protection). */
  expiresAt: z.string().optional(),
  /** Optional artifact roots the publisher also serves the tarballs from, tried after the manifest's own. */
  mirrors: z.array(z.string()).max(16).optional(),
  agents: z.record(name, AgentShape),
});

export type VmManifest = z.infer<typeof VmManifestSchema>;

/** One tarball this host will download, checked in full. */
export interface SelectedArtifact {
  agent: string;
  version: string;
  arch: string;
  key: string;
  /** Lower-case hex. */
  sha256: string;
  sizeBytes: number;
  /** The tarball's published chunk index, for a delta update (issue #15); sha256 in lower case. */
  chunkIndex?: { key: string; sha256: string; sizeBytes: number };
}

/**
 * A real manifest is five levels deep. Hundreds of thousands of levels in an
 * unknown field parse fine but overflow the stack when the manifest is
 * written back, after the download; so depth is bounded before parsing.
 */
export const MAX_NESTING = 64;

/** True when `text` opens more than `max` arrays or objects at once (strings skipped). */
function nestingBeyond(text: string | Buffer, max: number): boolean {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

function pathOf(issuePath: readonly PropertyKey[]): string {
  return issuePath.map((p) => String(p)).join('.') || '(document)';
}

/** The first agent or arch named `__proto__`, `constructor` or `prototype`, as a field path. */
function findReservedName(doc: object): string | undefined {
  const agents = (doc as { agents?: unknown }).agents;
  if (!agents || typeof agents !== 'object') return undefined;
  for (const [agent, entry] of Object.entries(agents)) {
    if (DANGEROUS_NAMES.has(agent)) return `agents.${agent}`;
    const tarballs = (entry as { tarballs?: unknown } | null)?.tarballs;
    if (!tarballs || typeof tarballs !== 'object') continue;
    for (const arch of Object.keys(tarballs)) {
      if (DANGEROUS_NAMES.has(arch)) return `agents.${agent}.tarballs.${arch}`;
    }
  }
  return undefined;
}

/**
 * Parses the manifest bytes. The returned `doc` is exactly what JSON.parse
 * made (unknown fields and all), which is what gets written to disk.
 */
export function parseManifest(
  text: string | Buffer,
  url: string,
): { doc: Record<string, unknown>; manifest: VmManifest } {
  const depth = nestingBeyond(text, MAX_NESTING);
  if (depth) {
    throw new ManifestInvalidError(
      `invalid manifest at ${url}: nested more than ${MAX_NESTING} levels deep; the cache was left as it was`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(typeof text === 'string' ? text : text.toString('utf8'));
  } catch (cause) {
    throw new ManifestInvalidError(
      `invalid manifest at ${url}: not valid JSON (${(cause as Error).message}); the cache was left as it was`,
      { cause },
    );
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ManifestInvalidError(`invalid manifest at ${url}: the document is not a JSON object`);
  }
  const version = (doc as { schemaVersion?: unknown }).schemaVersion;
  if (version !== SCHEMA_VERSION) {
    throw new ManifestInvalidError(
      `invalid manifest at ${url}: schemaVersion is ${JSON.stringify(version) ?? 'missing'}, this app reads schemaVersion ${SCHEMA_VERSION}; update the app or the manifest`,
    );
  }
  const reserved = findReservedName(doc);
  if (reserved) {
    throw new ManifestInvalidError(
      `invalid manifest at ${url}: field ${reserved}: reserved name; the cache was left as it was`,
    );
  }
  const result = VmManifestSchema.safeParse(doc);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue ? pathOf(issue.path) : '(document)';
    throw new ManifestInvalidError(
      `invalid manifest at ${url}: field ${where}: ${issue?.message ?? 'invalid'}; the cache was left as it was`,
      { cause: result.error },
    );
  }
  return { doc: doc as Record<string, unknown>, manifest: result.data };
}

/**
 * The entries this host downloads: `arch` only, or every arch with `allArches`.
 * Each is checked in full before any request is made for it.
 */
export function selectArtifacts(
  manifest: VmManifest,
  url: string,
  arch: string,
  allArches: boolean,
): SelectedArtifact[] {
  // Keys of any arch that would be one file, or a file and a folder, on disk.
  const collision = findKeyCollision(
    Object.values(manifest.agents).flatMap((a) => Object.values(a.tarballs).map((t) => t.key)),
  );
  if (collision) throw new UnsafeKeyError(collision.key, `${collision.reason} (in ${url})`);
  const out: SelectedArtifact[] = [];
  const byKey = new Map<string, SelectedArtifact>();
  for (const [agent, entry] of Object.entries(manifest.agents)) {
    for (const [tarballArch, tarball] of Object.entries(entry.tarballs)) {
      if (!allArches && tarballArch !== arch) continue;
      const where = `agents.${agent}.tarballs.${tarballArch}`;
      const keyProblem = unsafeKeyReason(tarball.key);
      if (keyProblem) throw new UnsafeKeyError(tarball.key, `${keyProblem} (at ${where}.key in ${url})`);
      if (!/^[0-9a-fA-F]{64}$/.test(tarball.sha256)) {
        throw new ManifestInvalidError(
          `invalid manifest at ${url}: field ${where}.sha256: expected 64 hex characters; the cache was left as it was`,
        );
      }
      if (
        !Number.isSafeInteger(tarball.sizeBytes) ||
        tarball.sizeBytes < 0 ||
        tarball.sizeBytes > MAX_ARTIFACT_BYTES
      ) {
        throw new ManifestInvalidError(
          `invalid manifest at ${url}: field ${where}.sizeBytes: expected a whole number of bytes from 0 to 1 TiB; the cache was left as it was`,
        );
      }
      if (tarball.chunkIndex) checkChunkIndexRef(tarball.chunkIndex, `${where}.chunkIndex`, url);
      const artifact: SelectedArtifact = {
        agent,
        version: entry.version,
        arch: tarballArch,
        key: tarball.key,
        sha256: tarball.sha256.toLowerCase(),
        sizeBytes: tarball.sizeBytes,
        ...(tarball.chunkIndex
          ? {
              chunkIndex: {
                key: tarball.chunkIndex.key,
                sha256: tarball.chunkIndex.sha256.toLowerCase(),
                sizeBytes: tarball.chunkIndex.sizeBytes,
              },
            }
          : {}),
      };
      // Two entries may share a key only if they name the same bytes.
      const seen = byKey.get(keyIdentity(artifact.key));
      if (seen) {
        if (seen.sha256 !== artifact.sha256 || seen.sizeBytes !== artifact.sizeBytes) {
          throw new ManifestInvalidError(
            `invalid manifest at ${url}: field ${where}.key: ${artifact.key} is also used for different content; the cache was left as it was`,
          );
        }
        continue;
      }
      byKey.set(keyIdentity(artifact.key), artifact);
      out.push(artifact);
    }
  }
  return out;
}

/** A chunk index named by an entry this host downloads is held to the tarball's own rules. */
function checkChunkIndexRef(
  ref: { key: string; sha256: string; sizeBytes: number },
  where: string,
  url: string,
) {
  const keyProblem = unsafeKeyReason(ref.key);
  if (keyProblem) throw new UnsafeKeyError(ref.key, `${keyProblem} (at ${where}.key in ${url})`);
  if (!/^[0-9a-fA-F]{64}$/.test(ref.sha256)) {
    throw new ManifestInvalidError(
      `invalid manifest at ${url}: field ${where}.sha256: expected 64 hex characters; the cache was left as it was`,
    );
  }
  if (!Number.isSafeInteger(ref.sizeBytes) || ref.sizeBytes < 1 || ref.sizeBytes > MAX_CHUNK_INDEX_BYTES) {
    throw new ManifestInvalidError(
      `invalid manifest at ${url}: field ${where}.sizeBytes: expected a whole number of bytes from 1 to 64 MiB; the cache was left as it was`,
    );
  }
}

/**
 * The artifact root: the manifest URL without a trailing `/vm/manifest.json`,
 * else the manifest's own folder. Query and fragment are dropped.
 */
export function artifactRootOf(manifestUrl: string): string {
  const u = new URL(manifestUrl);
  u.search = '';
  u.hash = '';
  const s = u.toString();
  if (s.endsWith('/vm/manifest.json')) return s.slice(0, -'/vm/manifest.json'.length);
  return s.slice(0, s.lastIndexOf('/'));
}
