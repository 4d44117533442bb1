// The IPC contract: every channel, what it accepts and what it answers. main
// validates with these schemas, VmCacheApi is derived from the same table, and
// api-client.ts builds every VmCacheApi from it (the preload over IPC, the
// preview over a WebSocket), so there is no second copy to drift.
export { CHANNEL_PREFIX, CHANNELS, PROGRESS_CHANNEL } from './channels.js';

import { z } from 'zod';
import { CHANNELS } from './channels.js';
import { ErrorInfoSchema } from './errors.js';
import { SyncProgressSchema } from './progress.js';
import {
  CacheStatusSchema,
  LimitRateSchema,
  MIN_LIMIT_RATE,
  MoveCacheResultSchema,
  SettingsSchema,
  SyncResultSchema,
  VerifyReportSchema,
} from './status.js';

/**
 * The arguments of a call that takes none. Each schema's `error` is the
 * refusal the hub answers (after the channel's name), so a page that gets a
 * call wrong is told how to call it.
 */
const NO_ARGS = z.tuple([], { error: 'takes no arguments' });

/** setLimitRate's one argument: bytes per second, at least MIN_LIMIT_RATE, or null for no cap. */
const LIMIT_RATE_ARGS = z.tuple(
  [
    z
      .number({ error: 'bytesPerSecond must be a number, or null for no limit' })
      .min(MIN_LIMIT_RATE, { error: `bytesPerSecond must be at least ${MIN_LIMIT_RATE} (1 KiB/s)` })
      .nullable(),
  ],
  { error: 'takes one argument: bytesPerSecond, or null for no limit' },
);

/** setAutoUpdate's one argument: on or off. */
const AUTO_UPDATE_ARGS = z.tuple([z.boolean({ error: 'enabled must be true or false' })], {
  error: 'takes one argument: enabled (true or false)',
});

/** Request/response calls (ipcRenderer.invoke / ipcMain.handle). Only the two setters take an argument. */
export const INVOKE = {
  getStatus: { channel: CHANNELS.getStatus, args: NO_ARGS, value: CacheStatusSchema },
  sync: { channel: CHANNELS.sync, args: NO_ARGS, value: SyncResultSchema },
  cancel: { channel: CHANNELS.cancel, args: NO_ARGS, value: z.object({ cancelled: z.boolean() }) },
  /** Stops the sync in flight, keeping what it downloaded, until resume(); false when none ran. */
  pause: { channel: CHANNELS.pause, args: NO_ARGS, value: z.object({ paused: z.boolean() }) },
  /** Goes on from the bytes a pause kept (a sync like any other: it answers when it ends). */
  resume: { channel: CHANNELS.resume, args: NO_ARGS, value: SyncResultSchema },
  verify: { channel: CHANNELS.verify, args: NO_ARGS, value: VerifyReportSchema },
  clear: { channel: CHANNELS.clear, args: NO_ARGS, value: z.object({ removedBytes: z.number() }) },
  /** The bandwidth cap of every sync, a sync in flight included. */
  getLimitRate: { channel: CHANNELS.getLimitRate, args: NO_ARGS, value: LimitRateSchema },
  /** Sets the cap (null: none); a sync in flight takes it from its next chunk. Answers the cap now in effect. */
  setLimitRate: { channel: CHANNELS.setLimitRate, args: LIMIT_RATE_ARGS, value: LimitRateSchema },
  /** The launch sync setting, and whether the cache can be moved here. */
  getSettings: { channel: CHANNELS.getSettings, args: NO_ARGS, value: SettingsSchema },
  /** Turns the launch sync on or off, kept across launches. Answers the settings now in effect. */
  setAutoUpdate: { channel: CHANNELS.setAutoUpdate, args: AUTO_UPDATE_ARGS, value: SettingsSchema },
  /**
   * Asks the user for a folder (the main side's own picker: a page never names
   * a path) and moves the cache there: copy, verify, switch, delete.
   */
  moveCache: { channel: CHANNELS.moveCache, args: NO_ARGS, value: MoveCacheResultSchema },
  subscribe: { channel: CHANNELS.subscribe, args: NO_ARGS, value: z.object({ subscribed: z.boolean() }) },
  unsubscribe: {
    channel: CHANNELS.unsubscribe,
    args: NO_ARGS,
    value: z.object({ subscribed: z.boolean() }),
  },
} as const satisfies Record<keyof typeof CHANNELS, { channel: string; args: z.ZodType; value: z.ZodType }>;

export type InvokeName = keyof typeof INVOKE;

/** main -> renderer: one SyncProgress per message. */
export const ProgressMessageSchema = SyncProgressSchema;

/** A failed call: the error shape of errors.ts (code, message, and the figures when there are any). */
export const FailureSchema = z.object({ ok: z.literal(false), ...ErrorInfoSchema.shape });
export type Failure = z.infer<typeof FailureSchema>;

/** Handlers never throw across IPC: they answer one of these. */
export type Result<T> = { ok: true; value: T } | Failure;

export function resultSchema<T extends z.ZodType>(value: T) {
  return z.union([z.object({ ok: z.literal(true), value }), FailureSchema]);
}

export type InvokeValue<K extends InvokeName> = z.infer<(typeof INVOKE)[K]['value']>;
export type InvokeArgs<K extends InvokeName> = z.infer<(typeof INVOKE)[K]['args']>;

/** The calls the page sees. subscribe/unsubscribe are folded into onProgress. */
type PageCalls = Exclude<InvokeName, 'subscribe' | 'unsubscribe'>;

/** window.vmCache, as the page sees it. */
export type VmCacheApi = {
  [K in PageCalls]: (...args: InvokeArgs<K>) => Promise<Result<InvokeValue<K>>>;
} & {
  /** Receives the current snapshot first when a sync is in flight; returns an unsubscribe function. */
  onProgress(listener: (progress: z.infer<typeof SyncProgressSchema>) => void): () => void;
};
