// The progress event: one shape for the engine's onProgress, the IPC broadcast,
// the CLI's JSON lines and the panel.
import { z } from 'zod';
import { ErrorInfoSchema } from './errors.js';

export const SYNC_PHASES = [
  'checking',
  'waiting-for-lock',
  'downloading',
  'verifying',
  'finalizing',
  'done',
  'failed',
  'cancelled',
] as const;
export const SyncPhaseSchema = z.enum(SYNC_PHASES);
export type SyncPhase = z.infer<typeof SyncPhaseSchema>;

export const ARTIFACT_STATES = [
  'queued',
  'downloading',
  'stalled',
  'verifying',
  'verified',
  'cached',
  'failed',
] as const;
export const ArtifactStateSchema = z.enum(ARTIFACT_STATES);
export type ArtifactState = z.infer<typeof ArtifactStateSchema>;

const bytes = z.number().int().nonnegative();

/**
 * A tarball built from chunks already on disk (a delta update): how much of it
 * is copied from local files, how much comes over the network, and how much
 * of the copy is done. `fallback` says why it is downloaded whole after all.
 */
export const DeltaProgressSchema = z.object({
  reuseBytes: bytes,
  fetchBytes: bytes,
  reusedBytes: bytes,
  fallback: z.string().optional(),
});
export type DeltaProgress = z.infer<typeof DeltaProgressSchema>;

export const ArtifactProgressSchema = z.object({
  key: z.string(),
  agent: z.string(),
  version: z.string(),
  arch: z.string(),
  sha256: z.string(),
  sizeBytes: bytes,
  receivedBytes: bytes,
  state: ArtifactStateSchema,
  attempt: z.number().int().nonnegative(),
  error: ErrorInfoSchema.optional(),
  /** Set when the tarball is built from local chunks (or was meant to be): see DeltaProgressSchema. */
  delta: DeltaProgressSchema.optional(),
});
export type ArtifactProgress = z.infer<typeof ArtifactProgressSchema>;

export const SyncProgressSchema = z.object({
  root: z.string(),
  phase: SyncPhaseSchema,
  artifacts: z.array(ArtifactProgressSchema),
  receivedBytes: bytes,
  totalBytes: bytes,
  /** Smoothed over the last few seconds, not the average since the start. */
  bytesPerSecond: z.number().nonnegative(),
  /** Seconds left at the current rate; null when unknown (no rate yet). */
  etaSeconds: z.number().nonnegative().nullable(),
  /** Attempt number of the current manifest fetch or download (1-based). */
  attempt: z.number().int().nonnegative(),
  error: ErrorInfoSchema.optional(),
  /**
   * True on a sync that ended because it was paused (phase `cancelled`): no
   * connection is open and the lock is let go, the partial downloads are kept,
   * and resume() goes on from the bytes they hold.
   */
  paused: z.boolean().optional(),
  startedAt: z.number(),
  at: z.number(),
});
export type SyncProgress = z.infer<typeof SyncProgressSchema>;

/** Whoever follows a sync: the engine's onProgress, a page's vmCache.onProgress, a transport. */
export type ProgressListener = (progress: SyncProgress) => void;
