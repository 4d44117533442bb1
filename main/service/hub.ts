// The IPC hub: the one place a request from a page is checked and answered.
// It knows nothing of Electron: ipcMain is one transport, the browser
// preview's WebSocket is another, and both hand it (channel, args, sender,
// send). Every answer is a Result; nothing a page sends can make it throw or
// change state unless the sender, the channel and the arguments all check out.
import {
  INVOKE,
  type InvokeArgs,
  type InvokeName,
  PROGRESS_CHANNEL,
  type Result,
} from '../../contract/api.js';
import { ERROR_CODES, type ErrorCode, ErrorDetailSchema } from '../../contract/errors.js';
import type { SyncProgress } from '../../contract/progress.js';
import { TrailingThrottle, VmCacheError } from '../engine/index.js';
import type { VmCacheController, VmCacheLogger } from './controller.js';
import { type LogLimitOptions, PerSenderLogLimit } from './log-limit.js';
import type { SenderInfo } from './sender-policy.js';

export { defaultSenderPolicy, type SenderInfo, type SenderPolicy } from './sender-policy.js';

export type Send = (channel: string, payload: unknown) => void;

export interface VmCacheHubOptions {
  controller: VmCacheController;
  isAllowedSender(sender: SenderInfo): boolean;
  /** Minimum gap between two progress messages to one sender. Default 100 (10 per second). */
  progressIntervalMs?: number;
  /** Refused requests are logged here (a page probing the API is worth knowing about). */
  logger?: Pick<VmCacheLogger, 'warn'>;
  /** How many refusal lines one sender may cause per interval. Default 20 per minute. */
  logLimit?: LogLimitOptions;
  /**
   * The folder picker of "Move cache to…" (Electron's dialog, the preview's
   * stand-in), for the sender that asked: the path chosen, or null when the
   * user closed it. A page never names the folder itself. Without one,
   * moveCache is refused.
   */
  pickFolder?: (senderId: number) => Promise<string | null>;
}

interface Subscription {
  send: Send;
  /** Holds how to read the newest state; the snapshot is made only when a message goes out. */
  throttle: TrailingThrottle<() => SyncProgress>;
  unwatch: () => void;
}

const NAME_BY_CHANNEL = new Map<string, InvokeName>(
  (Object.keys(INVOKE) as InvokeName[]).map((name) => [INVOKE[name].channel, name]),
);
const KNOWN_CODES = new Set<string>(ERROR_CODES);

export class VmCacheHub {
  private readonly controller: VmCacheController;
  private readonly isAllowedSender: (sender: SenderInfo) => boolean;
  private readonly intervalMs: number;
  private readonly refusals: PerSenderLogLimit | undefined;
  private readonly subscriptions = new Map<number, Subscription>();
  private readonly pickFolder: ((senderId: number) => Promise<string | null>) | undefined;
  private disposed = false;

  constructor(options: VmCacheHubOptions) {
    this.controller = options.controller;
    this.isAllowedSender = options.isAllowedSender;
    this.intervalMs = options.progressIntervalMs ?? 100;
    this.pickFolder = options.pickFolder;
    const logger = options.logger;
    this.refusals = logger ? new PerSenderLogLimit((line) => logger.warn(line), options.logLimit) : undefined;
  }

  /** Sender ids with a live progress subscription. */
  get subscribers(): number[] {
    return [...this.subscriptions.keys()];
  }

  /** Validates channel (a key of INVOKE), the sender, and args with the channel's zod schema; never throws. */
  async invoke(channel: string, args: unknown, sender: SenderInfo, send: Send): Promise<Result<unknown>> {
    try {
      if (this.disposed) return failure('ERR_INTERNAL', 'the cache service has shut down');
      if (!this.senderAllowed(sender)) {
        return this.refuse(
          sender,
          'ERR_FORBIDDEN_SENDER',
          `sender ${clip(safeUrlOf(sender))} may not use vm-cache`,
        );
      }
      const name = typeof channel === 'string' ? NAME_BY_CHANNEL.get(channel) : undefined;
      if (name === undefined)
        return this.refuse(sender, 'ERR_INVALID_REQUEST', `unknown channel ${clip(channel)}`);
      const spec = INVOKE[name];
      const parsed = spec.args.safeParse(args);
      if (!parsed.success) {
        return this.refuse(sender, 'ERR_INVALID_REQUEST', argumentsProblem(spec.channel, parsed.error));
      }
      const value = await this.run(name, parsed.data, sender.id, send);
      // The answer crosses a process boundary: hold it to the contract here, not in every page.
      return { ok: true, value: spec.value.parse(value) };
    } catch (err) {
      return toFailure(err);
    }
  }

  private settings() {
    return { autoUpdate: this.controller.autoUpdate, canMoveCache: this.pickFolder !== undefined };
  }

  /** Drop the sender's subscription (navigation, close, socket end). */
  dropSender(senderId: number): void {
    const sub = this.subscriptions.get(senderId);
    if (!sub) return;
    this.subscriptions.delete(senderId);
    sub.throttle.close();
    sub.unwatch();
  }

  dispose(): void {
    this.disposed = true;
    for (const id of [...this.subscriptions.keys()]) this.dropSender(id);
    // What was held back is still said once, before the app goes.
    this.refusals?.flush();
  }

  /** `args` is what the channel's schema parsed (and let through): never the page's own object. */
  private async run(name: InvokeName, args: unknown, senderId: number, send: Send): Promise<unknown> {
    switch (name) {
      case 'getStatus':
        return this.controller.getStatus();
      case 'sync':
        return this.controller.sync();
      case 'cancel':
        return this.controller.cancel();
      case 'pause':
        return this.controller.pause();
      case 'resume':
        return this.controller.resume();
      case 'verify':
        return this.controller.verify();
      case 'clear':
        return this.controller.clear();
      case 'getLimitRate':
        return { bytesPerSecond: this.controller.limitRate ?? null };
      case 'setLimitRate': {
        const [bytesPerSecond] = args as InvokeArgs<'setLimitRate'>;
        this.controller.setLimitRate(bytesPerSecond ?? undefined);
        return { bytesPerSecond: this.controller.limitRate ?? null };
      }
      case 'getSettings':
        return this.settings();
      case 'setAutoUpdate': {
        const [enabled] = args as InvokeArgs<'setAutoUpdate'>;
        await this.controller.setAutoUpdate(enabled);
        return this.settings();
      }
      case 'moveCache': {
        const pick = this.pickFolder;
        if (!pick)
          throw new VmCacheError(
            'ERR_INVALID_REQUEST',
            'this app offers no folder picker: the cache cannot be moved from here',
          );
        // Modal to the window that asked.
        return this.controller.moveCache(() => pick(senderId));
      }
      case 'subscribe':
        this.subscribe(senderId, send);
        return { subscribed: true };
      case 'unsubscribe':
        this.dropSender(senderId);
        return { subscribed: false };
      default: {
        const unreachable: never = name;
        throw new Error(`no handler for ${String(unreachable)}`);
      }
    }
  }

  /** One subscription per sender: a second subscribe re-points it and re-sends the snapshot. */
  private subscribe(senderId: number, send: Send): void {
    const existing = this.subscriptions.get(senderId);
    if (existing) {
      existing.send = send;
      const snapshot = this.controller.currentProgress();
      if (snapshot) existing.throttle.push(() => snapshot);
      return;
    }
    const sub: Subscription = {
      send,
      throttle: new TrailingThrottle<() => SyncProgress>(this.intervalMs, (current) =>
        this.deliver(senderId, current()),
      ),
      unwatch: () => {},
    };
    this.subscriptions.set(senderId, sub);
    // Every change of the engine's state, unthrottled: this per-sender throttle is the only one
    // between the engine and a page. The sync in flight is handed over synchronously, so a late
    // subscriber sees its snapshot first.
    const unwatch = this.controller.watchChanges((current) => sub.throttle.push(current));
    // If delivering that snapshot failed, the sender was dropped before unwatch existed.
    if (this.subscriptions.get(senderId) === sub) sub.unwatch = unwatch;
    else unwatch();
  }

  private deliver(senderId: number, progress: SyncProgress): void {
    const sub = this.subscriptions.get(senderId);
    if (!sub) return;
    try {
      sub.send(PROGRESS_CHANNEL, progress);
    } catch {
      // The receiver is gone (a destroyed window, a closed socket): stop feeding it.
      this.dropSender(senderId);
    }
  }

  private senderAllowed(sender: SenderInfo): boolean {
    if (typeof sender !== 'object' || sender === null) return false;
    if (!Number.isSafeInteger(sender.id) || typeof sender.url !== 'string') return false;
    if (typeof sender.isMainFrame !== 'boolean') return false;
    try {
      return this.isAllowedSender(sender) === true;
    } catch {
      return false;
    }
  }

  /** Every refusal is answered; only the first few per sender and minute are logged (see log-limit.ts). */
  private refuse(sender: unknown, code: ErrorCode, message: string): Result<never> {
    this.refusals?.log(senderKey(sender), `refused IPC request: ${code}: ${message}`);
    return failure(code, message);
  }
}

/**
 * Why a call's arguments were refused, from the contract's own words (each
 * schema names its rule): "vm-cache:sync takes no arguments",
 * "vm-cache:set-limit-rate: bytesPerSecond must be at least 1024 (1 KiB/s)".
 * Nothing the page sent is echoed.
 */
function argumentsProblem(
  channel: string,
  error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> },
): string {
  const issue = error.issues[0];
  if (!issue) return `${channel}: invalid arguments`;
  return issue.path.length > 0 ? `${channel}: ${issue.message}` : `${channel} ${issue.message}`;
}

function failure(code: ErrorCode, message: string): Result<never> {
  return { ok: false, code, message };
}

/**
 * Controller errors keep their code (the panel maps it to words) and their
 * figures, when those have a shape of the contract's; anything else is internal.
 */
function toFailure(err: unknown): Result<never> {
  const { code, detail } = (err ?? {}) as { code?: unknown; detail?: unknown };
  const message = err instanceof Error ? err.message : String(err);
  const known = typeof code === 'string' && KNOWN_CODES.has(code) ? (code as ErrorCode) : 'ERR_INTERNAL';
  const figures = known === 'ERR_INTERNAL' ? undefined : ErrorDetailSchema.safeParse(detail).data;
  return { ...failure(known, message), ...(figures ? { detail: figures } : {}) };
}

/** The log budget's key: the sender's id, or one shared key for senders that do not even have one. */
function senderKey(sender: unknown): number {
  const id = typeof sender === 'object' && sender !== null ? (sender as { id?: unknown }).id : undefined;
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : -1;
}

function safeUrlOf(sender: unknown): unknown {
  return typeof sender === 'object' && sender !== null ? (sender as { url?: unknown }).url : sender;
}

/** A page can send a megabyte of channel name; the reply and the log echo a short, printable piece. */
function clip(value: unknown): string {
  const text = typeof value === 'string' ? value : typeof value;
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(printable.length > 80 ? `${printable.slice(0, 80)}…` : printable);
}
