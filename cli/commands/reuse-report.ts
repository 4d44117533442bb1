// manifest build --previous: how much of each new tarball a client holding the
// previous release would not fetch, planned as the engine plans it (planDelta
// over the chunks of every previous tarball of the same arch), and the
// compression that would defeat it. A report only: nothing here changes the
// manifest, and a previous tarball that cannot be compared is said, not fatal.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  addLocalChunks,
  artifactRootOf,
  CHUNK_INDEX_SUFFIX,
  type ChunkIndex,
  cutFile,
  type LocalChunk,
  MAX_MANIFEST_BYTES,
  ManifestFetchError,
  MIN_REUSE_SHARE,
  parseChunkIndex,
  parseManifest,
  planDelta,
  resolveKeyPath,
  type SelectedArtifact,
  sameCut,
  selectArtifacts,
} from '../../main/engine/index.js';
import { CliError } from '../errors.js';
import { formatBytes } from '../format.js';

export type Compression = 'gzip' | 'zstd' | 'xz' | 'bzip2' | 'none';

/**
 * Under this share, a compressed tarball is probably losing its reuse to its
 * compression: on real data (docs/performance.md) a tenth of the content
 * changed leaves 82.3 % reusable uncompressed and 78.6 % with gzip
 * --rsyncable, but 28.4 % with plain gzip and 28.7 % with zstd.
 */
export const LOW_REUSE_SHARE = 0.5;

const FIX = 'compress with `gzip -n --rsyncable`, or publish an uncompressed tar';

/** The compression a file's first bytes announce. */
export function compressionOf(head: Uint8Array): Compression {
  const starts = (...magic: number[]) => magic.every((b, i) => head[i] === b);
  if (starts(0x1f, 0x8b)) return 'gzip';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (starts(0x42, 0x5a, 0x68) && head[3] !== undefined && head[3] >= 0x31 && head[3] <= 0x39) return 'bzip2';
  return 'none';
}

export async function detectCompression(file: string): Promise<Compression> {
  const handle = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(6);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return compressionOf(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/**
 * What to tell the publisher about a tarball's compression, given the share
 * measured against the previous release (undefined when not measured). gzip
 * with and without --rsyncable look the same, so gzip and zstd are judged by
 * the measured reuse only; xz and bzip2 never resynchronise after a change.
 */
export function compressionWarning(
  key: string,
  compression: Compression,
  share: number | undefined,
): string | undefined {
  if (compression === 'none' || (share !== undefined && share >= LOW_REUSE_SHARE)) return undefined;
  if (compression === 'xz' || compression === 'bzip2') {
    return `${key} is ${compression}-compressed, which never resynchronises after a change: a client holding the previous version reuses only what comes before the first changed byte; ${FIX}`;
  }
  if (share === undefined) return undefined;
  return `${key}: only ${percentOf(share)} % reusable, and it is ${compression}-compressed: unless most of its content changed, the compression defeats delta updates (${compression === 'gzip' ? 'gzip without --rsyncable does not resynchronise after a change' : 'zstd resynchronises too rarely, even with --rsyncable'}); ${FIX}`;
}

/** One decimal, as the engine says it ("only 12.3 % of it is in the cached files"). */
export function percentOf(share: number): string {
  return (100 * share).toFixed(1);
}

/** The previous release: its manifest's tarballs, and a way to their chunks. */
export interface PreviousRelease {
  /** As given: the folder or the manifest URL. */
  source: string;
  tarballs: SelectedArtifact[];
  /** The chunk index of a previous tarball, cut like `like`; or why there is none. */
  indexOf(tarball: SelectedArtifact, like: ChunkIndex): Promise<ChunkIndex | string>;
}

/** `--previous DIR|URL`: the release's manifest is read now, so a wrong argument fails before any hashing. */
export async function openPrevious(spec: string): Promise<PreviousRelease> {
  return /^https?:\/\//i.test(spec) ? openUrl(spec) : openDir(spec);
}

async function openDir(spec: string): Promise<PreviousRelease> {
  const dir = path.resolve(spec);
  const manifestFile = path.join(dir, 'vm', 'manifest.json');
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(manifestFile);
  } catch (err) {
    throw new CliError(
      'ERR_BUILD_INPUT',
      `manifest build: --previous ${spec}: cannot read ${manifestFile} (${(err as Error).message}); give the previous release's folder (holding vm/manifest.json) or its manifest URL`,
      { cause: err },
    );
  }
  return {
    source: spec,
    tarballs: tarballsOf(bytes, manifestFile, spec),
    async indexOf(tarball, like) {
      // The published index when it is there and cut the same way: the tarball is not read at all.
      const indexKey = tarball.chunkIndex?.key ?? `${tarball.key}${CHUNK_INDEX_SUFFIX}`;
      try {
        const index = parseChunkIndex(await fs.readFile(resolveKeyPath(dir, indexKey)), tarball, indexKey);
        if (sameCut(index, like)) return index;
      } catch {
        // Missing, stale or cut otherwise: cut the tarball itself.
      }
      let cut: ChunkIndex;
      try {
        cut = await cutFile(resolveKeyPath(dir, tarball.key), like.chunker);
      } catch (err) {
        return `neither it nor a usable chunk index could be read in ${dir} (${(err as Error).message})`;
      }
      if (cut.sha256 !== tarball.sha256 || cut.sizeBytes !== tarball.sizeBytes) {
        return `the file in ${dir} is not the one the previous manifest names (its sha256 differs)`;
      }
      return cut;
    },
  };
}

async function openUrl(spec: string): Promise<PreviousRelease> {
  let bytes: Buffer;
  try {
    bytes = await fetchCapped(spec, MAX_MANIFEST_BYTES);
  } catch (err) {
    throw new ManifestFetchError(`manifest build: --previous ${spec}: cannot fetch it (${why(err)})`, {
      cause: err,
    });
  }
  const root = artifactRootOf(spec);
  return {
    source: spec,
    tarballs: tarballsOf(bytes, spec, spec),
    async indexOf(tarball, like) {
      // From a URL only indexes are fetched: a whole previous release is too much to download for a figure.
      const ref = tarball.chunkIndex;
      if (!ref) {
        return 'the previous manifest names no chunk index for it, and its tarball is not downloaded to cut it (give --previous the release folder to measure it)';
      }
      const url = `${root}/${ref.key.split('/').map(encodeURIComponent).join('/')}`;
      let index: ChunkIndex;
      try {
        const text = await fetchCapped(url, ref.sizeBytes);
        if (createHash('sha256').update(text).digest('hex') !== ref.sha256) {
          return `its chunk index ${url} does not match the previous manifest's sha256`;
        }
        index = parseChunkIndex(text, tarball, url);
      } catch (err) {
        return `its chunk index ${url} could not be had (${why(err)})`;
      }
      if (!sameCut(index, like)) {
        return `its chunk index was cut with other chunker settings (${index.chunker.id}), and its tarball is not downloaded to cut it again`;
      }
      return index;
    },
  };
}

/** Every tarball of a previous manifest, held to the engine's own rules. */
function tarballsOf(bytes: Buffer, where: string, spec: string): SelectedArtifact[] {
  try {
    return selectArtifacts(parseManifest(bytes, where).manifest, where, 'x64', true);
  } catch (err) {
    const message = (err as Error).message.replace(/; the cache was left as it was$/, '');
    throw new CliError('ERR_BUILD_INPUT', `manifest build: --previous ${spec}: ${message}`, { cause: err });
  }
}

/** GET `url`, refusing a body over `max` bytes. */
async function fetchCapped(url: string, max: number): Promise<Buffer> {
  const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new Error(`HTTP ${res.status}`);
  }
  const parts: Buffer[] = [];
  let length = 0;
  for await (const part of res.body) {
    length += part.length;
    if (length > max) throw new Error(`larger than the ${max} bytes expected`);
    parts.push(Buffer.from(part));
  }
  return Buffer.concat(parts);
}

function why(err: unknown): string {
  const e = err as Error & { cause?: { message?: string } };
  return e.cause?.message ? `${e.message}: ${e.cause.message}` : e.message;
}

/** One new tarball measured against the previous release (the fields of the --json result). */
export interface ReuseReport {
  key: string;
  arch: string;
  sizeBytes: number;
  compression: Compression;
  /** The previous tarballs of the arch whose chunks were counted. */
  comparedWith: string[];
  /** Previous tarballs of the arch that could not be compared, and why. */
  notCompared: Array<{ key: string; reason: string }>;
  /** Absent when no previous tarball of the arch could be compared. */
  reusedBytes?: number;
  fetchBytes?: number;
  /** False when clients would download it whole (under the engine's MIN_REUSE_SHARE). */
  delta?: boolean;
}

interface ArchChunks {
  local: Map<string, LocalChunk>;
  compared: string[];
  notCompared: Array<{ key: string; reason: string }>;
}

/**
 * Measures new tarballs against a previous release. The chunks of the
 * previous tarballs of one arch are gathered once, for every new tarball of
 * that arch; `note` hears once about each previous tarball left out.
 */
export class ReuseMeter {
  private readonly byArch = new Map<string, Promise<ArchChunks>>();

  constructor(
    readonly previous: PreviousRelease,
    private readonly note: (message: string) => void,
  ) {}

  async measure(
    key: string,
    arch: string,
    index: ChunkIndex,
    compression: Compression,
  ): Promise<ReuseReport> {
    const cutKey = `${arch}:${index.chunker.id}:${index.chunker.min}:${index.chunker.avg}:${index.chunker.max}`;
    let pending = this.byArch.get(cutKey);
    if (!pending) {
      pending = this.gather(arch, index);
      this.byArch.set(cutKey, pending);
    }
    const { local, compared, notCompared } = await pending;
    const report: ReuseReport = {
      key,
      arch,
      sizeBytes: index.sizeBytes,
      compression,
      comparedWith: compared,
      notCompared,
    };
    if (compared.length === 0) return report;
    const plan = planDelta(index, local);
    return {
      ...report,
      reusedBytes: plan.reusedBytes,
      fetchBytes: plan.fetchBytes,
      delta: plan.reusedBytes >= index.sizeBytes * MIN_REUSE_SHARE,
    };
  }

  /** As a client holding the previous release gathers them: any tarball of the same arch. */
  private async gather(arch: string, like: ChunkIndex): Promise<ArchChunks> {
    const out: ArchChunks = { local: new Map(), compared: [], notCompared: [] };
    for (const tarball of this.previous.tarballs) {
      if (tarball.arch !== arch || tarball.sizeBytes === 0) continue;
      const index = await this.previous.indexOf(tarball, like);
      if (typeof index === 'string') {
        out.notCompared.push({ key: tarball.key, reason: index });
        this.note(`the previous release's ${tarball.key} is not counted: ${index}`);
        continue;
      }
      addLocalChunks(out.local, tarball.key, index);
      out.compared.push(tarball.key);
    }
    return out;
  }
}

/** The share of the tarball a client would not fetch; undefined when not measured. */
export function reuseShare(r: ReuseReport): number | undefined {
  if (r.reusedBytes === undefined) return undefined;
  return r.sizeBytes === 0 ? 1 : r.reusedBytes / r.sizeBytes;
}

/** The line `manifest build` prints for one tarball. */
export function reuseLine(r: ReuseReport): string {
  const size = formatBytes(r.sizeBytes);
  const left =
    r.notCompared.length === 0
      ? ''
      : `; not counting ${r.notCompared.length} previous tarball${r.notCompared.length === 1 ? '' : 's'} that could not be compared`;
  const share = reuseShare(r);
  if (share === undefined || r.fetchBytes === undefined) {
    return r.notCompared.length === 0
      ? `${r.key}: the previous release has no ${r.arch} tarball: clients download it whole (${size})`
      : `${r.key}: reuse not measured: no previous ${r.arch} tarball could be compared (see above)`;
  }
  const pct = percentOf(share);
  if (!r.delta) {
    return `${r.key}: ${pct} % reusable from the previous release, under the ${percentOf(MIN_REUSE_SHARE).replace(/\.0$/, '')} % at which clients download it whole (${size}${left})`;
  }
  return `${r.key}: ${pct} % reusable from the previous release (fetches ${formatBytes(r.fetchBytes)} of ${size}${left})`;
}
