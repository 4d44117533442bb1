// The IPC contract: every channel, what it accepts and what it answers. main
// validates with these schemas, VmCacheApi is derived from the same table, and
// api-client.ts builds every VmCacheApi from it (the preload over IPC, the
// preview over a WebSocket), so there is no second copy to drift.
export { CHANNEL_PREFIX, CHANNELS, PROGRESS_CHANNEL } from './channels.js';

import { z } from 'zod';
import { CHANNELS } from './channels.js';
import { ErrorCodeSchema } from './errors.js';
import { SyncProgressSchema } from './progress.js';
import { CacheStatusSchema, SyncResultSchema, VerifyReportSchema } from './status.js';

/** Request/response calls (ipcRenderer.invoke / ipcMain.handle). None takes arguments. */
export const INVOKE = {
  getStatus: { channel: CHANNELS.getStatus, args: z.tuple([]), value: CacheStatusSchema },
  sync: { channel: CHANNELS.sync, args: z.tuple([]), value: SyncResultSchema },
  cancel: { channel: CHANNELS.cancel, args: z.tuple([]), value: z.object({ cancelled: z.boolean() }) },
  verify: { channel: CHANNELS.verify, args: z.tuple([]), value: VerifyReportSchema },
  clear: { channel: CHANNELS.clear, args: z.tuple([]), value: z.object({ removedBytes: z.number() }) },
  subscribe: { channel: CHANNELS.subscribe, args: z.tuple([]), value: z.object({ subscribed: z.boolean() }) },
  unsubscribe: {
    channel: CHANNELS.unsubscribe,
    args: z.tuple([]),
    value: z.object({ subscribed: z.boolean() }),
  },
} as const satisfies Record<keyof typeof CHANNELS, { channel: string; args: z.ZodType; value: z.ZodType }>;

export type InvokeName = keyof typeof INVOKE;

/** main -> renderer: one SyncProgress per message. */
export const ProgressMessageSchema = SyncProgressSchema;

export const FailureSchema = z.object({ ok: z.literal(false), code: ErrorCodeSchema, message: z.string() });
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
