// Engine options, every one optional, each with its default here and in the README.
import type { KeyObject } from 'node:crypto';
import type { ProgressListener } from '../../contract/progress.js';
import { manifestArchFor } from './arch.js';
import { ManifestFetchError, type VmCacheError } from './errors.js';
import { fetchTransport } from './fetch-transport.js';
import type { SelectedArtifact } from './manifest.js';
import type { WriterKind } from './partial-file.js';
import { defaultRoot, MAX_MANIFEST_BYTES } from './paths.js';
import { RateLimit } from './rate-limit.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';
import { parseRoot, type Root } from './roots.js';
import { parsePublicKey } from './signature.js';
import { type FetchLike, gotTransport, type Transport } from './transport.js';
import { assertSecureUrl } from './url-policy.js';

/** Connections a sync may open at once (all downloads together), unless the host says otherwise. */
export const DEFAULT_CONNECTIONS = 8;

export interface VmCacheOptions {
  /** Cache root; `<root>/cache` mirrors the CDN. Default: VM_CACHE_ROOT, else the platform cache folder. */
  root?: string;
  /** Default: VM_CACHE_MANIFEST_URL (trimmed, ignored when empty), else the configured default. */
  manifestUrl?: string;
  /** Download every arch in the manifest, not only the host's. Default false. */
  allArches?: boolean;
  /** A fetch-compatible function (e.g. Electron's net.fetch), called as fetchImpl(urlString, init). Default: got. */
  fetchImpl?: FetchLike;
  /** Host arch as process.arch names it. Default process.arch. */
  rawHostArch?: string;
  /** Response headers (and the whole manifest) must arrive within this (ms). Default 30 000. */
  timeoutMs?: number;
  /** Cancels the sync; the partial is kept for a later resume. */
  signal?: AbortSignal;
  /** Progress events: at most one per 100 ms, plus one per state change and a final one. */
  onProgress?: ProgressListener;
  /** Extra attempts for transient failures. Default 0 (the app and the CLI use 5). */
  retries?: number;
  /** Fine-tuning of the backoff (base and cap, in ms). */
  retryPolicy?: Partial<Omit<RetryPolicy, 'retries'>>;
  /** No body bytes for this long aborts the attempt as a stall (ms). Default 30 000. */
  stallTimeoutMs?: number;
  /** Artifacts downloaded at once. Default 2. */
  concurrency?: number;
  /**
   * The most connections a sync opens at once, all downloads together. A
   * large tarball from a server that answers byte ranges is fetched over
   * more than one while that measurably raises the total rate (a server that
   * caps each connection, a long round trip). 1: one connection per
   * download. Default 8.
   */
  connections?: number;
  /** Remove tarballs and partials the new manifest does not reference. Default true. */
  prune?: boolean;
  /** Allow http: URLs to non-loopback hosts. Default false. */
  allowInsecureHttp?: boolean;
  /** Free space required beyond the missing bytes. Default 1 % of them, at least 1 MiB. */
  diskMarginBytes?: number;
  /** Give up waiting for another process's lock after this (ms). Default 1 hour. */
  lockTimeoutMs?: number;
  /** Refuse larger manifests. Default 16 MiB. */
  maxManifestBytes?: number;
  /**
   * How a download is written and hashed: 'thread' (default: a worker thread,
   * the fast path) or 'plain' (sha256 on the main thread and fs writes: the
   * reference, for a host that cannot run workers, or for debugging).
   */
  writer?: WriterKind;
  /**
   * Build a new version of a tarball from the chunks of the cached files of
   * its arch, fetching only the rest, when the manifest names its chunk index.
   * Default true.
   */
  delta?: boolean;
  /**
   * A bandwidth cap in bytes per second across all connections of a sync, or
   * a RateLimit the host keeps to change it while a sync runs (a settings
   * page). Default: none.
   */
  limitRate?: number | RateLimit;
  /**
   * Artifact roots to download tarballs from before the manifest's own (its
   * URL without `/vm/manifest.json`), in order: a failing one is left for the
   * next at once, and a download goes on from the byte it reached. Each is
   * held to the URL rules of the manifest URL. Default: none.
   */
  mirrors?: string[];
  /**
   * The publisher's Ed25519 public key (PEM, or the raw key in base64/hex).
   * When set, `<manifest URL>.sig` must verify over the exact manifest bytes.
   */
  publicKey?: string | KeyObject;
}

export interface ResolvedOptions {
  root: string;
  manifestUrl: string;
  arch: string;
  allArches: boolean;
  transport: Transport;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  onProgress: ProgressListener | undefined;
  retryPolicy: RetryPolicy;
  stallTimeoutMs: number;
  concurrency: number;
  connections: number;
  prune: boolean;
  diskMarginBytes: number | undefined;
  lockTimeoutMs: number | undefined;
  maxManifestBytes: number;
  publicKey: KeyObject | undefined;
  allowInsecureHttp: boolean;
  writer: WriterKind;
  delta: boolean;
  limiter: RateLimit | undefined;
  /** The host's mirrors, checked, their credentials split off. */
  mirrors: Root[];
  /** Set when the pipeline runs as an import (import.ts): what differs from a sync from the network. */
  importing: ImportMode | undefined;
}

/**
 * An import is the sync pipeline with three differences: its files are all
 * checked present before the cache's lock is taken, it is all or nothing
 * (every tarball staged, and what it staged removed if any of it fails), and
 * it never takes the cache back to an older manifest, whatever the cache's
 * manifest came from.
 */
export interface ImportMode {
  /** How messages name the manifest (a path, or `<archive>:<path inside>`), instead of its file: URL. */
  label: string;
  /** Throws when the source lacks a selected file or holds it at another size. */
  preflight(artifacts: SelectedArtifact[]): Promise<void>;
  /** The error for bytes that do not match the manifest, naming the source and what to do. */
  mismatch(artifact: SelectedArtifact, detail: string): VmCacheError;
}

let configuredDefaultUrl: string | undefined;

/** Sets the manifest URL used when neither the option nor VM_CACHE_MANIFEST_URL gives one. */
export function setDefaultManifestUrl(url: string | undefined): void {
  configuredDefaultUrl = url;
}

export function resolveManifestUrl(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.VM_CACHE_MANIFEST_URL?.trim();
  const url = option ?? (fromEnv ? fromEnv : undefined) ?? configuredDefaultUrl;
  if (!url) {
    throw new ManifestFetchError(
      'manifest fetch failed: no manifest URL configured; pass manifestUrl or set VM_CACHE_MANIFEST_URL',
    );
  }
  return url;
}

// The rule itself (loopback judged on the parsed host, every redirect hop
// checked) lives in url-policy.ts; re-exported here for existing importers.
export { assertSecureUrl, isLoopbackHost } from './url-policy.js';

/** Resolves every default. Throws (synchronously) for a bad arch or URL: callers turn that into a rejection. */
export function resolveOptions(options: VmCacheOptions = {}): ResolvedOptions {
  const manifestUrl = resolveManifestUrl(options.manifestUrl);
  assertSecureUrl(manifestUrl, options.allowInsecureHttp ?? false);
  const stallTimeoutMs = options.stallTimeoutMs ?? 30_000;
  const transport = options.fetchImpl
    ? fetchTransport(options.fetchImpl)
    : gotTransport({ idleTimeoutMs: stallTimeoutMs + 30_000 });
  return resolveWith(options, manifestUrl, transport);
}

/** Every default, for a manifest URL and transport already decided (a sync's, or the source of an import). */
export function resolveWith(
  options: VmCacheOptions,
  manifestUrl: string,
  transport: Transport,
  importing?: ImportMode,
): ResolvedOptions {
  const arch = manifestArchFor(options.rawHostArch ?? process.arch);
  const stallTimeoutMs = options.stallTimeoutMs ?? 30_000;
  return {
    root: options.root ?? defaultRoot(),
    manifestUrl,
    arch,
    allArches: options.allArches ?? false,
    transport,
    timeoutMs: options.timeoutMs ?? 30_000,
    signal: options.signal,
    onProgress: options.onProgress,
    retryPolicy: {
      ...DEFAULT_RETRY_POLICY,
      ...options.retryPolicy,
      retries: Math.max(0, options.retries ?? 0),
    },
    stallTimeoutMs,
    concurrency: Math.max(1, Math.floor(options.concurrency ?? 2)),
    connections: Math.max(1, Math.floor(options.connections ?? DEFAULT_CONNECTIONS)) || 1,
    prune: options.prune ?? true,
    diskMarginBytes: options.diskMarginBytes,
    lockTimeoutMs: options.lockTimeoutMs,
    maxManifestBytes: options.maxManifestBytes ?? MAX_MANIFEST_BYTES,
    publicKey: options.publicKey === undefined ? undefined : parsePublicKey(options.publicKey),
    allowInsecureHttp: options.allowInsecureHttp ?? false,
    writer: options.writer === 'plain' ? 'plain' : 'thread',
    delta: options.delta ?? true,
    mirrors: (options.mirrors ?? []).map((m) => parseRoot(m, options.allowInsecureHttp ?? false)),
    limiter:
      options.limitRate instanceof RateLimit
        ? options.limitRate
        : options.limitRate === undefined
          ? undefined
          : new RateLimit(options.limitRate),
    importing,
  };
}
