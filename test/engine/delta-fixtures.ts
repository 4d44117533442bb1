// Two releases of one agent for delta-update tests: v2 is v1 with a region
// rewritten, bytes inserted and bytes removed, as a new image version is. A
// release folder is laid out like the CDN (manifest, tarball, chunk index)
// and served by the artifact server.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  buildChunkIndex,
  CHUNK_INDEX_SUFFIX,
  type ChunkIndex,
  manifestArchFor,
  serializeChunkIndex,
} from '../../main/engine/index.js';
import { seededBytes } from '../helpers.js';

export const ARCH = manifestArchFor(process.arch);
export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** v1 of 6 MiB, and v2: 256 KiB rewritten at 1 MiB, 40 KiB inserted at 3 MiB, 30 KiB removed at 5 MiB. */
export function twoVersions(size = 6 << 20): { v1: Buffer; v2: Buffer } {
  const v1 = seededBytes(size, 'delta-v1');
  const v2 = Buffer.concat([
    v1.subarray(0, 1 << 20),
    seededBytes(256 << 10, 'delta-rewrite'),
    v1.subarray((1 << 20) + (256 << 10), 3 << 20),
    seededBytes(40 << 10, 'delta-insert'),
    v1.subarray(3 << 20, 5 << 20),
    v1.subarray((5 << 20) + (30 << 10)),
  ]);
  return { v1, v2 };
}

export async function indexOf(bytes: Buffer): Promise<ChunkIndex> {
  return buildChunkIndex([bytes]);
}

export interface Release {
  version: string;
  key: string;
  bytes: Buffer;
  /** The chunk index as published; a test may publish a doctored one instead. */
  indexText: string;
  /** Leave the index out of the manifest (a publisher that does not make them). */
  noIndex?: boolean;
}

export async function release(version: string, bytes: Buffer): Promise<Release> {
  return {
    version,
    key: `vm/images/agent-${version}-${ARCH}.tar.gz`,
    bytes,
    indexText: serializeChunkIndex(await indexOf(bytes)),
  };
}

/** Writes `rel` (and `others`, by agent name) into `dir` as the release the manifest names (older files stay, as on a CDN). */
export async function publish(
  dir: string,
  rel: Release,
  manifestVersion: number,
  others: Record<string, Release> = {},
): Promise<void> {
  await mkdir(path.join(dir, 'vm', 'images'), { recursive: true });
  const agents: Record<string, unknown> = {};
  for (const [agent, r] of Object.entries({ agent: rel, ...others })) {
    await writeFile(path.join(dir, r.key), r.bytes);
    const indexKey = `${r.key}${CHUNK_INDEX_SUFFIX}`;
    await writeFile(path.join(dir, indexKey), r.indexText);
    const tarball: Record<string, unknown> = {
      key: r.key,
      sha256: sha256(r.bytes),
      sizeBytes: r.bytes.length,
    };
    if (!r.noIndex) {
      const text = Buffer.from(r.indexText);
      tarball.chunkIndex = { key: indexKey, sha256: sha256(text), sizeBytes: text.length };
    }
    agents[agent] = { version: r.version, tarballs: { [ARCH]: tarball } };
  }
  const doc = {
    schemaVersion: 2,
    manifestVersion,
    updatedAt: new Date(Date.UTC(2026, 10, manifestVersion)).toISOString(),
    agents,
  };
  await writeFile(path.join(dir, 'vm', 'manifest.json'), `${JSON.stringify(doc, null, 2)}\n`);
}
