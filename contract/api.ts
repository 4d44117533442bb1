// The IPC contract: every channel, what it accepts and what it answers. main
// validates with these schemas, preload builds window.vmCache from the same
// table, and VmCacheApi is derived from it, so there is no second copy to drift.
import { z } from 'zod';
import { ErrorCodeSchema } from './errors.js';
import { SyncProgressSchema } from './progress.js';
import { CacheStatusSchema, SyncResultSchema, VerifyReportSchema } from './status.js';

/** Every channel starts with this prefix; the preload exposes no other. */
export const CHANNEL_PREFIX = 'vm-cache:';

/** Request/response calls (ipcRenderer.invoke / ipcMain.handle). None takes arguments. */
export const INVOKE = {
  getStatus: { channel: 'vm-cache:get-status', args: z.tuple([]), value: CacheStatusSchema },
  sync: { channel: 'vm-cache:sync', args: z.tuple([]), value: SyncResultSchema },
  cancel: { channel: 'vm-cache:cancel', args: z.tuple([]), value: z.object({ cancelled: z.boolean() }) },
  verify: { channel: 'vm-cache:verify', args: z.tuple([]), value: VerifyReportSchema },
  clear: { channel: 'vm-cache:clear', args: z.tuple([]), value: z.object({ removedBytes: z.number() }) },
  subscribe: {
    channel: 'vm-cache:subscribe',
    args: z.tuple([]),
    value: z.object({ subscribed: z.boolean() }),
  },
  unsubscribe: {
    channel: 'vm-cache:unsubscribe',
    args: z.tuple([]),
    value: z.object({ subscribed: z.boolean() }),
  },
} as const;

export type InvokeName = keyof typeof INVOKE;

/** main -> renderer: one SyncProgress per message. */
export const PROGRESS_CHANNEL = 'vm-cache:progress';
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
