// The app's one handle on the cache: every IPC call, the launch prefetch and
// the settings page go through this object, so "a sync is in flight" has one
// owner (and one AbortController) per app. Plain Node: no electron import, so
// the hub, the browser preview and the tests drive the very same code.
import type { ProgressListener, SyncProgress } from '../../contract/progress.js';
import type { CacheStatus, SyncResult, VerifyReport } from '../../contract/status.js';
import {
  type ChangeListener,
  clearVmCache,
  ensureVmCacheSynced,
  getSyncProgress,
  getVmCacheStatus,
  manifestArchFor,
  pauseVmCacheSync,
  RateLimit,
  resolveManifestUrl,
  type VmCacheOptions,
  verifyVmCache,
  watchSyncChanges,
  watchSyncProgress,
} from '../engine/index.js';
import { definedOnly } from './defined-only.js';
import { MaintenanceQueue } from './maintenance-queue.js';

export interface VmCacheLogger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/**
 * What a host chooses for every sync, defined (and documented) once, by the
 * engine's options. The controller's one different default: `retries` is 5.
 */
export type SyncChoices = Pick<
  VmCacheOptions,
  'manifestUrl' | 'fetchImpl' | 'retries' | 'publicKey' | 'allArches' | 'rawHostArch' | 'limitRate'
>;

export interface VmCacheControllerOptions extends SyncChoices {
  /** Cache root; `<root>/cache` mirrors the CDN. */
  root: string;
  /** Shown in settings so a user can send it to support. Default null. */
  logPath?: string | null;
  /** One line per state change and per error. Default: silent. */
  logger?: VmCacheLogger;
  /** Any other engine option (timeouts, concurrency...), passed through to every sync. */
  engine?: Omit<VmCacheOptions, 'root' | 'signal' | 'onProgress'>;
}

const SILENT: VmCacheLogger = { info() {}, warn() {}, error() {} };

export class VmCacheController {
  readonly root: string;
  readonly logPath: string | null;
  private readonly logger: VmCacheLogger;
  private readonly syncOptions: VmCacheOptions;
  /** The bandwidth cap of every sync, changed by setLimitRate even while one runs. */
  private readonly limit: RateLimit;
  private inFlight: { promise: Promise<SyncResult>; abort: AbortController } | undefined;
  /** Verify and clear: one at a time, identical requests merged (see maintenance-queue.ts). */
  private readonly maintenance = new MaintenanceQueue<'verify' | 'clear'>();

  constructor(private readonly options: VmCacheControllerOptions) {
    this.root = options.root;
    this.logPath = options.logPath ?? null;
    this.logger = options.logger ?? SILENT;
    const { root, logPath: _logPath, logger: _logger, engine, retries, limitRate, ...choices } = options;
    this.limit = limitRate instanceof RateLimit ? limitRate : new RateLimit(limitRate);
    this.syncOptions = {
      ...engine,
      ...definedOnly(choices),
      root,
      retries: retries ?? 5,
      limitRate: this.limit,
    };
  }

  /** The bandwidth cap in bytes per second, or undefined for none. */
  get limitRate(): number | undefined {
    return this.limit.rate;
  }

  /** Sets the cap (undefined: none); a sync in flight takes it from its next chunk. Throws below 1 KiB/s. */
  setLimitRate(bytesPerSecond: number | undefined): void {
    this.limit.set(bytesPerSecond);
    this.logger.info(
      `bandwidth cap: ${bytesPerSecond === undefined ? 'none' : `${Math.round(bytesPerSecond / 1024)} KiB/s`}`,
    );
  }

  /** The URL the status shows: the option, else the environment (the engine's own fallback order). */
  get manifestUrl(): string {
    try {
      return resolveManifestUrl(this.options.manifestUrl);
    } catch {
      return '';
    }
  }

  /** True while this controller's sync runs. */
  get syncing(): boolean {
    return this.inFlight !== undefined;
  }

  getStatus(): Promise<CacheStatus> {
    return getVmCacheStatus({ root: this.root, manifestUrl: this.manifestUrl, logPath: this.logPath });
  }

  /**
   * Starts a sync, or joins the one in flight: concurrent callers share one
   * promise. The engine owns that de-duplication (the same root and options
   * give the same promise); the controller only remembers which sync is its
   * own, to log it once (its own events, not other syncs of the root) and to
   * cancel it.
   */
  sync(): Promise<SyncResult> {
    const abort = new AbortController();
    // Only this controller's own sync is logged: a call that joins it adds a listener that stays silent.
    let log: ProgressLog | undefined;
    const promise = ensureVmCacheSynced({
      ...this.syncOptions,
      signal: abort.signal,
      onProgress: (p) => log?.observe(p),
    });
    if (promise === this.inFlight?.promise) return promise;
    const flight = { promise, abort };
    this.inFlight = flight;
    const ownLog = new ProgressLog(this.logger);
    log = ownLog;
    this.logger.info(`sync started: ${this.manifestUrl || '(default manifest URL)'} -> ${this.root}`);
    const leave = () => {
      if (this.inFlight === flight) this.inFlight = undefined;
    };
    promise.then(
      (result) => {
        leave();
        ownLog.succeeded(result);
      },
      (err: unknown) => {
        leave();
        ownLog.failed(err);
      },
    );
    return promise;
  }

  /**
   * The launch sync: the same as sync(), but an app that fires it and never
   * awaits it gets no unhandled rejection (the failure is logged; a caller
   * that awaits still sees it).
   */
  prefetch(): Promise<SyncResult> {
    const promise = this.sync();
    promise.catch(() => {});
    return promise;
  }

  /** Aborts this controller's sync and waits until it has let go (lock released, partial kept). */
  async cancel(): Promise<{ cancelled: boolean }> {
    const flight = this.inFlight;
    if (!flight) return { cancelled: false };
    // Repeated cancels while the sync winds down all wait for it; only the first says so in the log.
    if (!flight.abort.signal.aborted) {
      this.logger.info('sync cancel requested');
      flight.abort.abort();
    }
    await flight.promise.catch(() => {});
    return { cancelled: true };
  }

  /**
   * Pauses the sync of this root: its connections close, its lock is let go
   * (another process may sync meanwhile), its partial downloads stay, and its
   * progress ends as `paused` until resume(). False when nothing ran.
   */
  async pause(): Promise<{ paused: boolean }> {
    const paused = await pauseVmCacheSync(this.root);
    if (paused) this.logger.info('sync paused; the partial download is kept');
    return { paused };
  }

  /** Goes on from the bytes a pause kept: a sync like sync(), from the partials. */
  resume(): Promise<SyncResult> {
    this.logger.info('sync resumed');
    return this.sync();
  }

  /**
   * Re-hashes every cached tarball; a corrupt one is removed so the next sync
   * fetches it again. Calls made while a verify runs (or waits behind a
   * clear) share its one re-hash and its report.
   */
  verify(): Promise<VerifyReport> {
    return this.maintenance.run('verify', () => this.runVerify());
  }

  /**
   * Cancels any sync first (it holds the lock), then removes the whole cache.
   * A clear asked for while a verify runs waits for it (the verify's callers
   * still get their report); calls made while a clear runs or waits share it.
   */
  clear(): Promise<{ removedBytes: number }> {
    // Stop the sync now, not when the clear's turn comes: it holds the lock
    // that a verify ahead of the clear would otherwise wait on to the end.
    this.cancel().catch(() => {});
    return this.maintenance.run('clear', () => this.runClear());
  }

  private async runVerify(): Promise<VerifyReport> {
    this.logger.info('verify started');
    try {
      const report = await verifyVmCache(this.maintenanceOptions());
      const bad = report.entries.filter((e) => e.state !== 'ok');
      if (report.ok) this.logger.info(`verify ok: ${report.entries.length} tarball(s)`);
      else
        this.logger.warn(
          `verify found problems: ${bad.map((e) => `${e.key} ${e.state}`).join(', ') || 'no cache'}`,
        );
      return report;
    } catch (err) {
      this.logger.error(`verify failed: ${describeError(err)}`);
      throw err;
    }
  }

  private async runClear(): Promise<{ removedBytes: number }> {
    await this.cancel();
    try {
      const result = await clearVmCache({ root: this.root });
      this.logger.info(`cache cleared: ${result.removedBytes} bytes removed`);
      return result;
    } catch (err) {
      this.logger.error(`clear failed: ${describeError(err)}`);
      throw err;
    }
  }

  /** A cached manifest exists and every tarball this host uses is present at its size. */
  async hasCompleteCache(): Promise<boolean> {
    const status = await getVmCacheStatus({ root: this.root });
    if (!status.cached) return false;
    let arch: string | undefined;
    try {
      arch = this.options.allArches ? undefined : manifestArchFor(this.options.rawHostArch ?? process.arch);
    } catch {
      return false; // an unsupported arch never has a complete cache
    }
    const mine = status.cached.artifacts.filter((a) => arch === undefined || a.arch === arch);
    return mine.every((a) => a.present);
  }

  /** The state of the sync in flight for this root, if any. */
  currentProgress(): SyncProgress | undefined {
    return getSyncProgress(this.root);
  }

  /** Follows every sync of this root: the in-flight snapshot first, then its events (throttled by the engine). */
  watch(listener: ProgressListener): () => void {
    return watchSyncProgress(this.root, listener);
  }

  /** Every change of this root's syncs, unthrottled, for a receiver that throttles on its own (the hub). */
  watchChanges(onChange: ChangeListener): () => void {
    return watchSyncChanges(this.root, onChange);
  }

  private maintenanceOptions() {
    return {
      root: this.root,
      ...(this.options.allArches === undefined ? {} : { allArches: this.options.allArches }),
      ...(this.options.rawHostArch === undefined ? {} : { rawHostArch: this.options.rawHostArch }),
    };
  }
}

export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/**
 * Turns the progress stream into log lines: one per phase change, per
 * artifact state change and per error, never one per byte event.
 */
class ProgressLog {
  private phase: string | undefined;
  private readonly states = new Map<string, string>();
  private readonly startedAt = Date.now();

  constructor(private readonly logger: VmCacheLogger) {}

  observe(p: SyncProgress): void {
    if (p.phase !== this.phase) {
      this.phase = p.phase;
      // The terminal phases get their own line from succeeded()/failed().
      if (p.phase !== 'done' && p.phase !== 'failed' && p.phase !== 'cancelled') {
        this.logger.info(`phase: ${p.phase}${p.attempt > 1 ? ` (attempt ${p.attempt})` : ''}`);
      }
    }
    for (const a of p.artifacts) {
      const state = `${a.state}|${a.attempt}|${a.error?.code ?? ''}`;
      if (this.states.get(a.key) === state) continue;
      this.states.set(a.key, state);
      const name = `${a.agent} ${a.version} ${a.arch}`;
      if (a.error) {
        const line = `${name}: ${a.state} after ${a.error.code}: ${a.error.message}`;
        if (a.state === 'failed') this.logger.error(line);
        else this.logger.warn(line);
      } else {
        this.logger.info(`${name}: ${a.state}${a.attempt > 1 ? ` (attempt ${a.attempt})` : ''}`);
      }
    }
  }

  succeeded(result: SyncResult): void {
    const seconds = ((Date.now() - this.startedAt) / 1000).toFixed(1);
    this.logger.info(
      result.skipped
        ? `sync done in ${seconds}s: cache already current`
        : `sync done in ${seconds}s: downloaded ${result.downloaded.join(', ')}`,
    );
  }

  failed(err: unknown): void {
    const code = (err as { code?: unknown } | undefined)?.code;
    if (code === 'ERR_ABORTED') this.logger.info('sync cancelled; the partial download is kept');
    else this.logger.error(`sync failed: ${describeError(err)}`);
  }
}
