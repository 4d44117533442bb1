// What one download attempt works with, whichever way it goes (whole, in
// ranges, a delta, a repair): the transport, the roots, the limits, and the
// budget of connections the whole sync shares.
import type { ImportMode } from './options.js';
import type { WriterKind } from './partial-file.js';
import type { ProgressTracker } from './progress.js';
import type { RateLimit } from './rate-limit.js';
import type { ArtifactRoots } from './roots.js';
import type { Transport } from './transport.js';

export interface DownloadContext {
  transport: Transport;
  /** Where this attempt fetches from (the manifest's root, or a mirror). */
  artifactRoot: string;
  /** Every root the sync may fetch tarballs from, and their credentials. */
  roots: ArtifactRoots;
  signal: AbortSignal | undefined;
  timeoutMs: number;
  stallTimeoutMs: number;
  allowInsecureHttp: boolean;
  progress: ProgressTracker;
  /** How partials are written and hashed (the engine's `writer` option). */
  writer: WriterKind;
  /** An import stages every file (all or nothing) and names its source in a mismatch. */
  importing: ImportMode | undefined;
  /** The sync's bandwidth cap, shared by all its connections. */
  limiter: RateLimit | undefined;
  /** The connections the whole sync may have open at once. */
  connections: ConnectionBudget | undefined;
  /** The most connections one download may use; 1 fetches every tarball over one. */
  maxConnections: number;
}

/** The connections of a whole sync: a download's first always runs, more only while some are free. */
export class ConnectionBudget {
  private used = 0;

  constructor(readonly max: number) {}

  /** The first connection of a download: never refused. */
  open(): void {
    this.used++;
  }

  /** Another connection, if the sync has one free. */
  tryOpen(): boolean {
    if (this.used >= this.max) return false;
    this.used++;
    return true;
  }

  close(): void {
    this.used--;
  }
}
