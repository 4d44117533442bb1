// Deciding whether a tarball is built from the chunks already on disk (a delta
// update, issue #15) and gathering what that needs: the tarball's published
// chunk index, verified against the manifest, and the chunks of the cached
// files of the same arch. A first install fetches no index at all: with no
// local file there is nothing to reuse.
import { statOrUndefined } from './atomic.js';
import { type ChunkIndex, parseChunkIndex, sameCut } from './chunk-index.js';
import { readStoredIndex, storeIndex } from './chunk-store.js';
import { addLocalChunks, cutFile, type LocalChunk, planDelta } from './delta-plan.js';
import { CancelError, ManifestInvalidError, type VmCacheError } from './errors.js';
import { sha256Hex } from './hash.js';
import { keyUrl, resolveKeyPath } from './keys.js';
import type { SelectedArtifact, VmManifest } from './manifest.js';
import { fetchManifestOnce } from './manifest-fetch.js';
import type { ResolvedOptions } from './options.js';
import { cacheDir } from './paths.js';
import { withRetries } from './retry.js';
import type { ArtifactRoots } from './roots.js';

/** A delta plan for one tarball, ready to place. */
export interface DeltaSource {
  index: ChunkIndex;
  /** The index's own sha256: a partial built by this plan says so in its sidecar. */
  indexSha256: string;
  /** Where each reused chunk of the new tarball lies on disk, by its offset in the new tarball. */
  reuse: Map<number, LocalChunk>;
  reuseBytes: number;
  fetchBytes: number;
}

/**
 * Below this share of the tarball found on disk, the plan would fetch most of
 * it anyway, in many requests instead of one stream: it is downloaded whole.
 */
export const MIN_REUSE_SHARE = 0.2;

/**
 * The delta plan for `artifact`; a sentence saying why it is downloaded whole
 * (the index could not be had or was refused, too little on disk); or
 * undefined when a delta does not apply (no index published, no cached file
 * of its arch). Only a cancel is thrown: anything else falls back to the
 * whole download, which the manifest's sha256 still guards.
 */
export async function prepareDelta(
  opts: ResolvedOptions,
  artifact: SelectedArtifact,
  roots: ArtifactRoots,
  cached: VmManifest | undefined,
): Promise<DeltaSource | string | undefined> {
  const ref = artifact.chunkIndex;
  if (!ref || opts.importing || !opts.delta) return undefined;
  const files = await localCandidates(opts.root, artifact, cached);
  if (files.length === 0) return undefined;

  const url = keyUrl(roots.home, ref.key);
  let index: ChunkIndex;
  try {
    index = await fetchIndex(opts, artifact, roots);
  } catch (err) {
    if (err instanceof CancelError || opts.signal?.aborted) throw new CancelError();
    if (err instanceof ManifestInvalidError && !err.message.startsWith('refusing')) return err.message;
    const why = err instanceof Error ? err.message.replace(/^manifest fetch failed: /, '') : String(err);
    return `chunk index ${url} could not be fetched (${why})`;
  }
  const local = new Map<string, LocalChunk>();
  for (const file of files) {
    let kept = await readStoredIndex(opts.root, file);
    if (!kept || !sameCut(kept, index)) {
      try {
        kept = await cutFile(file.path, index.chunker, opts.signal);
      } catch {
        if (opts.signal?.aborted) throw new CancelError();
        continue; // Unreadable: it has nothing to give.
      }
      await storeIndex(opts.root, kept);
    }
    addLocalChunks(local, file.path, kept);
  }
  const plan = planDelta(index, local);
  await storeIndex(opts.root, index);
  if (plan.reusedBytes < artifact.sizeBytes * MIN_REUSE_SHARE) {
    const share = artifact.sizeBytes === 0 ? 0 : (100 * plan.reusedBytes) / artifact.sizeBytes;
    return `only ${share.toFixed(1)} % of it is in the cached files`;
  }
  return {
    index,
    indexSha256: ref.sha256,
    reuse: new Map(plan.reuse.map(({ chunk, from }) => [chunk.offset, from])),
    reuseBytes: plan.reusedBytes,
    fetchBytes: plan.fetchBytes,
  };
}

/**
 * After a whole download, the tarball's published index is kept (best effort),
 * so the next update reads it instead of cutting this file again.
 */
export async function keepIndexOf(
  opts: ResolvedOptions,
  artifact: SelectedArtifact,
  roots: ArtifactRoots,
): Promise<void> {
  if (!artifact.chunkIndex || opts.importing || !opts.delta) return;
  if (await readStoredIndex(opts.root, artifact)) return;
  try {
    await storeIndex(opts.root, await fetchIndex(opts, artifact, roots));
  } catch {
    // Only a later update's speed depends on it.
  }
}

interface Candidate {
  path: string;
  sha256: string;
  sizeBytes: number;
}

/**
 * The files the cached manifest names for the same arch (the previous version
 * of this agent, the other agents) that are on disk at their size. What they
 * hold is checked chunk by chunk when it is copied, not trusted.
 */
async function localCandidates(
  root: string,
  artifact: SelectedArtifact,
  cached: VmManifest | undefined,
): Promise<Candidate[]> {
  const out: Candidate[] = [];
  const seen = new Set<string>();
  for (const entry of Object.values(cached?.agents ?? {})) {
    const tarball = entry.tarballs[artifact.arch];
    // Entries of an arch the last sync did not check may hold anything: a sha256 names a stored index.
    if (!tarball || seen.has(tarball.key) || !/^[0-9a-fA-F]{64}$/.test(String(tarball.sha256))) continue;
    seen.add(tarball.key);
    let file: string;
    try {
      file = resolveKeyPath(cacheDir(root), tarball.key);
    } catch {
      continue;
    }
    const st = await statOrUndefined(file).catch(() => undefined);
    if (st?.isFile() && st.size === tarball.sizeBytes && st.size > 0)
      out.push({ path: file, sha256: tarball.sha256.toLowerCase(), sizeBytes: tarball.sizeBytes });
  }
  return out;
}

/**
 * The published index from the first root that has it (mirrors too: a dead
 * primary must not hold every delta up), its bytes checked against the
 * manifest's sha256 before they are parsed.
 */
async function fetchIndex(
  opts: ResolvedOptions,
  artifact: SelectedArtifact,
  roots: ArtifactRoots,
): Promise<ChunkIndex> {
  const ref = artifact.chunkIndex!;
  const fromRoot = async (root: string) => {
    const url = keyUrl(root, ref.key);
    const bytes = await fetchManifestOnce(opts, url, ref.sizeBytes);
    if (bytes.length !== ref.sizeBytes || sha256Hex(bytes) !== ref.sha256) {
      throw new ManifestInvalidError(
        `chunk index ${url} refused: its bytes do not match the manifest's sha256`,
      );
    }
    return parseChunkIndex(bytes, artifact, url);
  };
  // Any failure of one root's copy (unreachable, missing, wrong bytes) is worth another root's.
  const anyFault = (err: VmCacheError) =>
    err.code === 'ERR_MANIFEST_FETCH' || err.code === 'ERR_MANIFEST_INVALID';
  return withRetries(() => roots.tryEach(opts.signal, fromRoot, anyFault), opts.retryPolicy, {
    signal: opts.signal,
  });
}
