// The `delta` scenario: the cache holds v1 of a tarball, the server publishes
// v2 with a chunk index, and the engine builds v2 from v1's chunks, fetching
// only the changed ranges. Those ranges drip slowly, so a person sees the
// panel's "Reused … from the cached version, downloading …" before it is done.
//
// The releases live in a folder the demo server serves beside its generated
// artifacts (under keys of their own); only the manifest is swapped.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildChunkIndex, CHUNK_INDEX_SUFFIX, serializeChunkIndex } from '../main/engine/index.js';
import { type ArtifactServer, contentSlice } from '../server/index.js';
import { manifestArchOf } from './faults.js';
import { ManifestClock } from './manifest-clock.js';

const MB = 1000 * 1000;
const AGENT = 'openclaw';
const VERSIONS = ['2026.5.1', '2026.5.8'] as const;

/**
 * Per range response: at this rate the changed ranges of the full-size demo
 * take several seconds (and of `small`'s a couple), long enough to read the line.
 */
export const DELTA_DRIP_BYTES_PER_SEC = 150_000;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * v1 of `size` pseudo-random bytes, and v2 as a new image version differs:
 * about 10 % changed, in three places (rewritten, inserted, removed).
 */
export function deltaVersions(size: number): { v1: Buffer; v2: Buffer } {
  const v1 = contentSlice('preview-delta-v1', 0, size);
  const at = (share: number) => Math.floor(size * share);
  const v2 = Buffer.concat([
    v1.subarray(0, at(0.2)),
    contentSlice('preview-delta-rewrite', 0, at(0.05)),
    v1.subarray(at(0.25), at(0.55)),
    contentSlice('preview-delta-insert', 0, at(0.03)),
    v1.subarray(at(0.55), at(0.8)),
    v1.subarray(at(0.82)),
  ]);
  return { v1, v2 };
}

interface TarballEntry {
  key: string;
  sha256: string;
  sizeBytes: number;
  chunkIndex: { key: string; sha256: string; sizeBytes: number };
}

/** Writes one version's tarball and chunk index under `dir` (keys as on the CDN); returns its manifest entry. */
async function writeRelease(
  dir: string,
  version: string,
  arch: string,
  bytes: Buffer,
): Promise<TarballEntry> {
  const key = `vm/images/${AGENT}-${version}-${arch}.tar.gz`;
  const indexKey = `${key}${CHUNK_INDEX_SUFFIX}`;
  const index = Buffer.from(serializeChunkIndex(await buildChunkIndex([bytes])));
  await mkdir(path.join(dir, 'vm', 'images'), { recursive: true });
  await writeFile(path.join(dir, key), bytes);
  await writeFile(path.join(dir, indexKey), index);
  return {
    key,
    sha256: sha256(bytes),
    sizeBytes: bytes.length,
    chunkIndex: { key: indexKey, sha256: sha256(index), sizeBytes: index.length },
  };
}

export interface DeltaScenarioOptions {
  server: ArtifactServer;
  /** The folder the server serves (ArtifactServerOptions.dir). */
  dir: string;
  rawHostArch: string;
  /** v1's size. */
  sizeBytes: number;
  /** Dates every manifest the preview publishes; default one of its own. */
  clock?: ManifestClock;
}

/**
 * Publishes the two releases in turn, and the demo manifest back afterwards.
 * The cache remembers the newest manifest it accepted from the server, through
 * a clear too (rollback protection), so every manifest published here is dated
 * later than the one before: v1, v2, then the demo's again.
 */
export class DeltaScenario {
  private readonly demo: Record<string, unknown>;
  private releases: Promise<[TarballEntry, TarballEntry]> | undefined;
  private readonly clock: ManifestClock;
  /** Set from the first manifest published until disarm(), even when arm() failed half-way. */
  private armed = false;
  private dripping: string | undefined;

  constructor(private readonly options: DeltaScenarioOptions) {
    this.demo = options.server.manifest;
    this.clock = options.clock ?? new ManifestClock();
  }

  /**
   * Brings the cache to v1 with `syncV1` (a whole sync of the first release),
   * then publishes v2 and slows its ranges. Returns v2's key.
   */
  async arm(syncV1: () => Promise<unknown>): Promise<string> {
    const [v1, v2] = await this.release();
    this.armed = true;
    this.publish(VERSIONS[0], v1);
    await syncV1();
    this.publish(VERSIONS[1], v2);
    this.options.server.setFault(v2.key, { dripBytesPerSec: DELTA_DRIP_BYTES_PER_SEC });
    this.dripping = v2.key;
    return v2.key;
  }

  /** The demo manifest again (dated after the releases), at full speed. No-op unless armed. */
  disarm(): void {
    if (!this.armed) return;
    if (this.dripping !== undefined) this.options.server.setFault(this.dripping, undefined);
    this.armed = false;
    this.dripping = undefined;
    this.options.server.setManifest({ ...this.demo, updatedAt: this.clock.next() });
  }

  private publish(version: string, tarball: TarballEntry): void {
    const arch = manifestArchOf(this.options.rawHostArch);
    this.options.server.setManifest({
      schemaVersion: 2,
      updatedAt: this.clock.next(),
      agents: { [AGENT]: { image: `ghcr.io/example/${AGENT}`, version, tarballs: { [arch]: tarball } } },
    });
  }

  /** Generated and written once per preview (a couple of seconds at the full size). */
  private release(): Promise<[TarballEntry, TarballEntry]> {
    this.releases ??= (async () => {
      const { dir, rawHostArch, sizeBytes } = this.options;
      const arch = manifestArchOf(rawHostArch);
      const { v1, v2 } = deltaVersions(sizeBytes);
      return [await writeRelease(dir, VERSIONS[0], arch, v1), await writeRelease(dir, VERSIONS[1], arch, v2)];
    })();
    // A failed write is tried again next time rather than remembered.
    this.releases.catch(() => {
      this.releases = undefined;
    });
    return this.releases;
  }
}

/** v1's size: a few seconds of drip at the full size, a couple with `small`. */
export function deltaSizeBytes(small: boolean): number {
  return small ? 6 * MB : 24 * MB;
}
