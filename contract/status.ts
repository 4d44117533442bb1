// What the settings form shows (the cache, the bandwidth cap) and what verify reports.
import { z } from 'zod';
import { SyncProgressSchema } from './progress.js';

export const CachedArtifactSchema = z.object({
  agent: z.string(),
  version: z.string(),
  arch: z.string(),
  key: z.string(),
  sha256: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  present: z.boolean(),
});
export type CachedArtifact = z.infer<typeof CachedArtifactSchema>;

export const CacheStatusSchema = z.object({
  root: z.string(),
  manifestUrl: z.string(),
  /** The cached manifest, summarised; null when no complete cache exists. */
  cached: z.object({ updatedAt: z.string().nullable(), artifacts: z.array(CachedArtifactSchema) }).nullable(),
  sizeOnDiskBytes: z.number().int().nonnegative(),
  lastSync: z.object({ at: z.string(), downloaded: z.array(z.string()) }).nullable(),
  /** The sync in flight for this root, if any. */
  progress: SyncProgressSchema.nullable(),
  logPath: z.string().nullable(),
});
export type CacheStatus = z.infer<typeof CacheStatusSchema>;

export const VerifyEntrySchema = z.object({
  key: z.string(),
  state: z.enum(['ok', 'missing', 'corrupt']),
  /**
   * For a corrupt tarball whose chunk index the cache kept: the byte ranges
   * that are bad. The tarball is then kept aside and the next sync fetches
   * only these; without them it was removed and is downloaded whole.
   */
  badRanges: z
    .array(z.object({ offset: z.number().int().nonnegative(), length: z.number().int().positive() }))
    .optional(),
});
export type VerifyEntry = z.infer<typeof VerifyEntrySchema>;

export const VerifyReportSchema = z.object({
  ok: z.boolean(),
  entries: z.array(VerifyEntrySchema),
});
export type VerifyReport = z.infer<typeof VerifyReportSchema>;

export const SyncResultSchema = z.object({
  downloaded: z.array(z.string()),
  manifestPath: z.string(),
  skipped: z.boolean(),
});
export type SyncResult = z.infer<typeof SyncResultSchema>;

/**
 * The least bandwidth cap, in bytes per second (1 KiB/s): below it every chunk
 * would wait so long that it looked like a stall. The engine refuses less
 * (its MIN_LIMIT_RATE; test/contract holds the two equal).
 */
export const MIN_LIMIT_RATE = 1024;

/** The bandwidth cap of every sync: bytes per second over all its connections, or null for none. */
export const LimitRateSchema = z.object({ bytesPerSecond: z.number().min(MIN_LIMIT_RATE).nullable() });
export type LimitRate = z.infer<typeof LimitRateSchema>;

/** The user's choices the settings page shows beside the cap, kept across launches (see docs/electron.md). */
export const SettingsSchema = z.object({
  /** "Download updates automatically": a sync runs at every launch. */
  autoUpdate: z.boolean(),
  /** False where the host has no folder picker (no "Move cache to…" then). */
  canMoveCache: z.boolean(),
});
export type Settings = z.infer<typeof SettingsSchema>;

/**
 * What "Move cache to…" did: `moved` false when the user closed the folder
 * picker; `root` is where the cache lives now, `movedBytes` what was copied.
 */
export const MoveCacheResultSchema = z.object({
  moved: z.boolean(),
  root: z.string(),
  movedBytes: z.number().int().nonnegative(),
});
export type MoveCacheResult = z.infer<typeof MoveCacheResultSchema>;
