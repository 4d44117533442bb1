// One sync of one root: manifest -> validate -> lock -> plan -> download ->
// manifest written last -> prune. The manifest request goes out synchronously;
// everything that touches the disk waits until a valid manifest is in hand.
import path from 'node:path';
import type { SyncResult } from '../../contract/status.js';
import { statOrUndefined } from './atomic.js';
import { commitManifest, installStaged } from './commit.js';
import { downloadDelta } from './delta-download.js';
import type { ByteRange } from './delta-plan.js';
import { type DeltaSource, keepIndexOf, prepareDelta } from './delta-source.js';
import { assertDiskSpace, marginFor } from './diskspace.js';
import { type DownloadOutcome, downloadArtifact } from './download.js';
import { ConnectionBudget } from './download-context.js';
import {
  CancelError,
  errorInfoOf,
  fsError,
  IoError,
  ManifestInvalidError,
  SignatureError,
  VmCacheError,
} from './errors.js';
import { sha256File } from './hash.js';
import {
  type CachedManifest,
  lockRoot,
  readCachedManifestFile,
  readLastSync,
  vouchedArches,
} from './local-state.js';
import type { HeldLock } from './lock.js';
import { prepareToInstall } from './make-way.js';
import {
  artifactRootOf,
  parseManifest,
  type SelectedArtifact,
  selectArtifacts,
  type VmManifest,
} from './manifest.js';
import { fetchManifestOnce, fetchManifestWithRetries } from './manifest-fetch.js';
import type { ResolvedOptions } from './options.js';
import { claimCacheDir } from './ownership.js';
import { discardPartial } from './partial.js';
import { cacheDir, getCachedManifestPath, partialPath } from './paths.js';
import { removePausedMarker, writePausedMarker } from './paused-marker.js';
import { type ArtifactPlan, planArtifacts } from './plan.js';
import type { ProgressTracker } from './progress.js';
import { readRepair, repairInPlace } from './repair.js';
import { withRetries } from './retry.js';
import { ArtifactRoots, isLocalUrl, parseRoot } from './roots.js';
import { SIGNATURE_MAX_BYTES, signatureUrlOf, verifyManifestSignature } from './signature.js';
import {
  assertNotExpired,
  assertNotOlderThanCached,
  assertNotRollback,
  describeManifest,
  readTrusted,
  sourceId,
  type TrustedManifest,
} from './trust.js';

/** Starts a sync. The manifest request is issued before this returns. */
export function startSync(opts: ResolvedOptions, progress: ProgressTracker): Promise<SyncResult> {
  const first = fetchManifestOnce(opts);
  return runSync(opts, progress, first);
}

async function runSync(
  opts: ResolvedOptions,
  progress: ProgressTracker,
  first: Promise<Buffer>,
): Promise<SyncResult> {
  let release: (() => Promise<void>) | undefined;
  /** The root's lock is held (a pause marker may be written under it). */
  let locked = false;
  // The partials this run began to write: an import removes them again if it fails.
  const started: string[] = [];
  try {
    const bytes = await fetchManifestWithRetries(opts, first, progress);
    if (opts.publicKey) await checkSignature(opts, bytes, progress);
    const { doc, manifest } = parseManifest(bytes, labelOf(opts));
    assertNotExpired(manifest, labelOf(opts));
    const artifacts = selectArtifacts(manifest, labelOf(opts), opts.arch, opts.allArches);
    // Checked before any request, like the keys: a mirror is where tarball bytes may come from.
    const roots = artifactRoots(opts, manifest);
    progress.setArtifacts(artifacts);
    // The files of an import are all checked there before the cache is even locked.
    await opts.importing?.preflight(artifacts);

    const lock = await lockRootUnlessReadOnly(opts, progress);
    if (lock) release = () => lock.release();
    locked = lock !== undefined;
    progress.setPhase('checking');
    // Only a folder the engine made (or clearly an earlier version's cache) is ever written or pruned.
    if (lock) await claimCacheDir(opts.root);
    // A sync that holds the root goes on from what any pause kept: the root is paused no longer, anywhere.
    if (lock) await removePausedMarker(opts.root);

    // Checked under the lock: two processes may have fetched different
    // manifests, and the older must not commit after the newer.
    const cached = await readCachedManifestFile(opts.root);
    const accepted = await checkNotRollback(opts, manifest, doc, bytes, cached);

    // Planned under the lock: another process may have just done the work.
    const dir = cacheDir(opts.root);
    const vouched = await vouchedArches(opts.root, cached, opts.arch);
    const plans = await planArtifacts(dir, artifacts, cached?.manifest, vouched);
    const toDownload = await settleLocal(plans, opts, progress);
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    if (!lock) {
      // A read-only cache (a shared or managed install) that is already current needs no write.
      if (toDownload.length === 0 && cached?.bytes.toString('utf8') === text) {
        progress.finish('done');
        return { downloaded: [], manifestPath: getCachedManifestPath(opts.root), skipped: true };
      }
      throw new IoError(
        `the cache at ${opts.root} is read-only and not current (it needs ${toDownload.length > 0 ? `${toDownload.length} download(s)` : 'a new manifest'}); make it writable, or update it where it is managed`,
        undefined,
      );
    }
    await checkDiskSpace(dir, toDownload, opts);
    // An old key's file where a new key needs a folder (or the reverse) goes first.
    await prepareToInstall(
      opts.root,
      dir,
      toDownload.map((p) => ({ key: p.artifact.key, path: p.path })),
      cached?.manifest,
    );

    const downloaded = new Set<string>();
    let staged: string[] = [];
    if (toDownload.length > 0) {
      progress.setPhase('downloading');
      staged = await runPool(toDownload, opts, progress, downloaded, started, cached?.manifest, roots);
    }

    progress.setPhase('finalizing');
    throwIfAborted(opts.signal);
    if (staged.length > 0) await installStaged(opts.root, staged);
    const keys = artifacts.map((a) => a.key).filter((k) => downloaded.has(k));
    const manifestPath = await commitManifest({
      root: opts.root,
      doc,
      manifest,
      installed: keys,
      arches: opts.allArches ? '*' : [opts.arch],
      source: opts.manifestUrl,
      previous: cached?.manifest,
      accepted,
      prune: opts.prune,
    });
    progress.finish('done');
    return { downloaded: keys, manifestPath, skipped: keys.length === 0 };
  } catch (err) {
    // All or nothing: what an import wrote goes (a sync keeps its partials to resume). Partials
    // it never reached stay as they were: one may hold a network sync's bytes to resume.
    if (opts.importing) for (const file of started) await discardPartial(file).catch(() => {});
    const coded = err instanceof VmCacheError ? err : fsError('sync failed', opts.root, err);
    progress.finish(coded instanceof CancelError ? 'cancelled' : 'failed', errorInfoOf(coded));
    // The user's pause, written while the lock is still held: a sync of another process that takes
    // the lock next removes it, never the other way round.
    if (locked && coded instanceof CancelError && progress.lastingPause)
      await writePausedMarker(opts.root, progress.snapshot());
    throw coded;
  } finally {
    await release?.();
  }
}

/**
 * The root's lock, or undefined when the cache cannot be written at all (a
 * read-only mount, a managed install): then nothing will be written either,
 * so there is nothing to serialise, and only a cache that is already current
 * can succeed.
 */
async function lockRootUnlessReadOnly(
  opts: ResolvedOptions,
  progress: ProgressTracker,
): Promise<HeldLock | undefined> {
  try {
    return await lockRoot(opts.root, {
      signal: opts.signal,
      onWait: () => progress.setPhase('waiting-for-lock'),
      ...(opts.lockTimeoutMs === undefined ? {} : { timeoutMs: opts.lockTimeoutMs }),
    });
  } catch (err) {
    const code = ((err as { cause?: NodeJS.ErrnoException }).cause ?? (err as NodeJS.ErrnoException))?.code;
    if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return undefined;
    throw err;
  }
}

/**
 * Refuses a manifest older than the newest this cache accepted from the same
 * source; the commit remembers this one. A cache from before this record
 * existed starts from its cached manifest, when the last sync came from this
 * source. An import (a stale copy of the mirror, perhaps) is never older than
 * the cached manifest, whatever its source; to go back on purpose, clear the
 * cache first. Reads only: a sync that fails later leaves no trace of it.
 */
async function checkNotRollback(
  opts: ResolvedOptions,
  manifest: VmManifest,
  doc: Record<string, unknown>,
  bytes: Buffer,
  cached: CachedManifest | undefined,
): Promise<TrustedManifest | undefined> {
  if (opts.importing) {
    if (cached) assertNotOlderThanCached(manifest, doc, cached, `${labelOf(opts)} (import)`);
    return undefined;
  }
  const candidate = describeManifest(manifest, bytes);
  const trusted = await readTrusted(opts.root, opts.manifestUrl);
  if (trusted) assertNotRollback(candidate, trusted, opts.manifestUrl);
  else if (cached) {
    const last = await readLastSync(opts.root);
    if (last && sourceId(last.manifestUrl) === sourceId(opts.manifestUrl))
      assertNotOlderThanCached(manifest, doc, cached, opts.manifestUrl);
  }
  return candidate;
}

/** Cached entries are trusted; unvouched files of the right size are hashed once. Returns what must be downloaded. */
async function settleLocal(
  plans: ArtifactPlan[],
  opts: ResolvedOptions,
  progress: ProgressTracker,
): Promise<ArtifactPlan[]> {
  const toDownload: ArtifactPlan[] = [];
  for (const plan of plans) {
    if (plan.action === 'cached') {
      progress.artifact(plan.artifact.key, 'cached');
    } else if (plan.action === 'hash') {
      progress.setPhase('verifying');
      progress.artifact(plan.artifact.key, 'verifying');
      let actual: string;
      try {
        actual = await sha256File(plan.path, opts.signal);
      } catch (err) {
        throwIfAborted(opts.signal);
        throw fsError(`cannot read ${plan.path}`, path.dirname(plan.path), err);
      }
      if (actual === plan.artifact.sha256) progress.artifact(plan.artifact.key, 'verified');
      else {
        progress.artifact(plan.artifact.key, 'queued', { receivedBytes: 0 });
        toDownload.push(plan);
      }
    } else {
      toDownload.push(plan);
    }
  }
  return toDownload;
}

async function checkDiskSpace(dir: string, plans: ArtifactPlan[], opts: ResolvedOptions): Promise<void> {
  let missing = 0;
  for (const plan of plans) {
    const kept = (await statOrUndefined(partialPath(plan.path)).catch(() => undefined))?.size ?? 0;
    missing += Math.max(0, plan.artifact.sizeBytes - Math.min(kept, plan.artifact.sizeBytes));
  }
  await assertDiskSpace(dir, missing, opts.diskMarginBytes ?? marginFor(missing));
}

/** Downloads with bounded parallelism; the first fatal error stops the others (their partials are kept). */
async function runPool(
  plans: ArtifactPlan[],
  opts: ResolvedOptions,
  progress: ProgressTracker,
  downloaded: Set<string>,
  started: string[],
  cached: VmManifest | undefined,
  roots: ArtifactRoots,
): Promise<string[]> {
  const stopOthers = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stopOthers.signal]) : stopOthers.signal;
  const ctx = {
    transport: opts.transport,
    artifactRoot: roots.home,
    roots,
    signal,
    timeoutMs: opts.timeoutMs,
    stallTimeoutMs: opts.stallTimeoutMs,
    allowInsecureHttp: opts.allowInsecureHttp,
    progress,
    writer: opts.writer,
    importing: opts.importing,
    limiter: opts.limiter,
    connections: new ConnectionBudget(opts.connections),
    maxConnections: opts.connections,
  };
  // Range requests share the connections the pool allows: with two downloads at once, one range each.
  const rangesAtOnce = Math.max(1, Math.floor(opts.concurrency / Math.min(opts.concurrency, plans.length)));
  let firstError: unknown;
  const staged: string[] = [];
  const queue = [...plans];
  const worker = async () => {
    for (let plan = queue.shift(); plan && firstError === undefined; plan = queue.shift()) {
      try {
        started.push(plan.path);
        // A tarball verify found damaged (and kept) is repaired in place; else a delta, if one applies.
        const repair = opts.importing ? undefined : await readRepair(plan.path, plan.artifact);
        // The pool's signal: a sibling's fatal error stops the cutting of a large cached file too.
        const poolOpts = { ...opts, signal };
        const delta = repair ? undefined : await prepareDelta(poolOpts, plan.artifact, roots, cached);
        if (typeof delta === 'string') {
          const { sizeBytes } = plan.artifact;
          progress.delta(plan.artifact.key, { reuseBytes: 0, fetchBytes: sizeBytes, fallback: delta });
        }
        const source = typeof delta === 'string' ? undefined : delta;
        if (
          (await downloadWithRetries(ctx, plan, opts, progress, { source, repair, rangesAtOnce })) ===
          'staged'
        )
          staged.push(plan.path);
        downloaded.add(plan.artifact.key);
        // Downloaded whole: its index is kept for the next update, so that one need not cut this file.
        if (!source && !repair) await keepIndexOf(poolOpts, plan.artifact, roots);
      } catch (err) {
        firstError ??= err;
        stopOthers.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, plans.length) }, worker));
  if (firstError !== undefined) {
    // The user's cancel wins over a sibling's reaction to it.
    if (opts.signal?.aborted) throw new CancelError();
    throw firstError;
  }
  return staged;
}

async function downloadWithRetries(
  ctx: Parameters<typeof downloadArtifact>[0],
  plan: ArtifactPlan,
  opts: ResolvedOptions,
  progress: ProgressTracker,
  from: { source: DeltaSource | undefined; repair: ByteRange[] | undefined; rangesAtOnce: number },
): Promise<DownloadOutcome> {
  const { artifact } = plan;
  const { rangesAtOnce } = from;
  let delta = from.source;
  let repair = from.repair;
  const errorInfo = (err: unknown) => ({ error: errorInfoOf(err as VmCacheError) });
  try {
    return await withRetries(
      async (attempt) => {
        if (attempt > 1) progress.setAttempt(attempt);
        // Each attempt tries the roots in order; a root that fails is left for the next at once,
        // and the download goes on from the byte it reached.
        return ctx.roots.tryEach(ctx.signal, async (artifactRoot) => {
          const at = { ...ctx, artifactRoot };
          if (repair) {
            const outcome = await repairInPlace(at, artifact, plan.path, repair, attempt);
            if (typeof outcome === 'string') return outcome;
            repair = undefined;
            progress.delta(artifact.key, { reuseBytes: 0, fetchBytes: artifact.sizeBytes, ...outcome });
          }
          if (delta) {
            const outcome = await downloadDelta(at, artifact, plan.path, attempt, delta, rangesAtOnce);
            if (typeof outcome === 'string') return outcome;
            // The plan cannot work (the server ignores Range, bytes that do not match the index): whole, from here on.
            delta = undefined;
            progress.delta(artifact.key, { reuseBytes: 0, fetchBytes: artifact.sizeBytes, ...outcome });
          }
          return downloadArtifact(at, artifact, plan.path, attempt);
        });
      },
      opts.retryPolicy,
      {
        signal: ctx.signal,
        coded: (err) =>
          err instanceof VmCacheError ? err : fsError(`cannot download ${artifact.key}`, plan.path, err),
        onRetry: (err) => progress.artifact(artifact.key, 'queued', errorInfo(err)),
      },
    );
  } catch (err) {
    if (!(err instanceof CancelError)) progress.artifact(artifact.key, 'failed', errorInfo(err));
    throw err;
  }
}

/**
 * Where tarballs come from, in order: the host's mirrors, the manifest's own
 * root, then mirrors the signed manifest names. An import reads only its source.
 */
function artifactRoots(opts: ResolvedOptions, manifest: VmManifest): ArtifactRoots {
  const home = artifactRootOf(opts.manifestUrl);
  if (opts.importing) return new ArtifactRoots(home);
  const remote = !isLocalUrl(opts.manifestUrl);
  const named = (manifest.mirrors ?? []).map((m) => parseRoot(m, opts.allowInsecureHttp, remote));
  return new ArtifactRoots(home, opts.mirrors, named);
}

/** Fetches `<manifest URL>.sig` and checks it over the exact bytes received, before parsing. */
async function checkSignature(
  opts: ResolvedOptions,
  bytes: Buffer,
  progress: ProgressTracker,
): Promise<void> {
  const url = signatureUrlOf(opts.manifestUrl);
  let signature: Buffer;
  try {
    // A signature is 64 bytes in base64: a larger .sig is refused after a few KiB.
    const once = () => fetchManifestOnce(opts, url, SIGNATURE_MAX_BYTES);
    signature = await fetchManifestWithRetries(opts, once(), progress, once);
  } catch (err) {
    if (err instanceof CancelError) throw err;
    const detail = err instanceof Error ? err.message.replace(/^manifest fetch failed: /, '') : String(err);
    const sig = opts.importing ? `${labelOf(opts)}.sig` : url;
    const what =
      err instanceof ManifestInvalidError
        ? `manifest signature refused: ${sig} is too large for a signature`
        : opts.importing
          ? `manifest signature missing: no ${sig} in the import`
          : `manifest signature missing: could not fetch ${url}`;
    throw new SignatureError(`${what} (${detail}); nothing was changed`, { cause: err });
  }
  verifyManifestSignature(bytes, signature, opts.publicKey!, labelOf(opts));
}

/** How messages name the manifest: its URL, or for an import the file as the user knows it. */
function labelOf(opts: ResolvedOptions): string {
  return opts.importing?.label ?? opts.manifestUrl;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelError();
}

export type { SelectedArtifact };
