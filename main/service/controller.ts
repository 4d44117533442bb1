// The app's one handle on the cache: every IPC call, the launch prefetch and
// the settings page go through this object, so "a sync is in flight" has one
// owner (and one AbortController) per app. Plain Node: no electron import, so
// the hub, the browser preview and the tests drive the very same code.
import path from 'node:path';
import type { ProgressListener, SyncProgress } from '../../contract/progress.js';
import type { CacheStatus, MoveCacheResult, SyncResult, VerifyReport } from '../../contract/status.js';
import {
  type ChangeListener,
  clearVmCache,
  ensureVmCacheSynced,
  getPausedVmCacheSync,
  getSyncProgress,
  getVmCacheStatus,
  LockError,
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
import { type MoveOutcome, moveRoot, tidyAfterMoves } from './move-root.js';
import { SettingsStore } from './settings.js';

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
  /** Cache root; `<root>/cache` mirrors the CDN. A root the user moved the cache to (settings) wins. */
  root: string;
  /**
   * The user's choices kept across launches: the root after a move, the
   * launch sync, the cap. Default: kept in memory only.
   */
  settings?: SettingsStore;
  /** Whether a sync runs at launch until the user chooses (setupVmCache's prefetchOnReady). Default true. */
  autoUpdate?: boolean;
  /** Shown in settings so a user can send it to support. Default null. */
  logPath?: string | null;
  /** One line per state change and per error. Default: silent. */
  logger?: VmCacheLogger;
  /** Any other engine option (timeouts, concurrency...), passed through to every sync. */
  engine?: Omit<VmCacheOptions, 'root' | 'signal' | 'onProgress'>;
}

const SILENT: VmCacheLogger = { info() {}, warn() {}, error() {} };

export class VmCacheController {
  #root: string;
  /** The user's lasting choices (the options' store, or one in memory). */
  readonly #settings: SettingsStore;
  readonly logPath: string | null;
  private readonly logger: VmCacheLogger;
  private readonly syncOptions: VmCacheOptions;
  /** The bandwidth cap of every sync, changed by setLimitRate even while one runs. */
  private readonly limit: RateLimit;
  private inFlight: { promise: Promise<SyncResult>; abort: AbortController } | undefined;
  /** Verify, clear, move and the tidying after a move that died: one at a time, identical requests merged (see maintenance-queue.ts). */
  private readonly maintenance = new MaintenanceQueue<'verify' | 'clear' | 'move' | 'tidy'>();
  /** Set while a move runs: a sync asked for meanwhile starts after it, at the new root. */
  #moving: Promise<unknown> | undefined;
  /** Cancels the move in flight (before its switch; after it, the move finishes). */
  #moveAbort: AbortController | undefined;
  /** Everyone following this controller's syncs, re-pointed when a move changes the root. */
  readonly #watchers = new Set<{ watch: (root: string) => () => void; unwatch: () => void }>();

  constructor(private readonly options: VmCacheControllerOptions) {
    // Without a file the choices still hold for this run.
    const settings = options.settings ?? SettingsStore.load(undefined);
    this.#settings = settings;
    // Absolute from the start: the settings file records roots, and only absolute ones.
    this.#root = path.resolve(settings.current.root ?? options.root);
    this.logPath = options.logPath ?? null;
    this.logger = options.logger ?? SILENT;
    const {
      root: _root,
      settings: _settings,
      autoUpdate: _autoUpdate,
      logPath: _logPath,
      logger: _logger,
      engine,
      retries,
      limitRate,
      ...choices
    } = options;
    this.limit = limitRate instanceof RateLimit ? limitRate : new RateLimit(limitRate);
    // The user's cap (or their "no limit") over the host's default.
    const chosen = settings.current.limitRate;
    if (chosen !== undefined) this.limit.set(chosen ?? undefined);
    this.syncOptions = {
      ...engine,
      ...definedOnly(choices),
      root: this.#root,
      retries: retries ?? 5,
      limitRate: this.limit,
    };
    // What a move that died left behind: its copy (before the switch) or the old files (after it).
    // Its own line in the queue: a user's move must never join this and be answered by it.
    this.maintenance.run('tidy', () => tidyAfterMoves(settings, this.#root, this.logger)).catch(() => {});
  }

  /** The cache root now: the host's, or where the user moved the cache. */
  get root(): string {
    return this.#root;
  }

  /** "Download updates automatically": the user's choice, else the host's default. */
  get autoUpdate(): boolean {
    return this.#settings.current.autoUpdate ?? this.options.autoUpdate ?? true;
  }

  /** Kept across launches; the launch sync of the next start follows it (this one's has run). */
  async setAutoUpdate(enabled: boolean): Promise<void> {
    await this.#settings.update({ autoUpdate: enabled });
    this.logger.info(`download updates automatically: ${enabled ? 'on' : 'off'}`);
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
    // In effect at once; kept for the next launch as soon as the disk allows (a failure is only logged).
    this.#settings.update({ limitRate: bytesPerSecond ?? null }).catch((err: unknown) => {
      this.logger.warn(`the bandwidth cap could not be saved for the next launch: ${describeError(err)}`);
    });
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
    // Asked for during a move: it runs after, at the root the move ends at.
    const moving = this.#moving;
    if (moving) return moving.then(() => this.sync());
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

  /**
   * True while the user's pause holds: a sync of this root was paused, here,
   * in another process or before the app last quit, and none has started
   * since. The launch sync leaves such a download alone until Resume.
   */
  async isPaused(): Promise<boolean> {
    if (this.inFlight) return false;
    return this.currentProgress()?.paused === true || (await getPausedVmCacheSync(this.#root)) !== undefined;
  }

  /**
   * Aborts this controller's sync and waits until it has let go (lock
   * released, partial kept); with no sync, a move that has not switched yet
   * (its copy is removed, the cache stays where it was).
   */
  async cancel(): Promise<{ cancelled: boolean }> {
    const flight = this.inFlight;
    // No sync, but a move before its switch: the copy goes and the cache stays where it is.
    if (!flight && this.#moveAbort && this.#moving) {
      this.logger.info('move cancel requested');
      this.#moveAbort.abort();
      await this.#moving;
      return { cancelled: true };
    }
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
   * `lasting: false`: a pause for this run only (the machine's sleep), which
   * other processes and the next launch do not hold to.
   */
  async pause(options: { lasting?: boolean } = {}): Promise<{ paused: boolean }> {
    const paused = await pauseVmCacheSync(this.root, options);
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
    return this.#follow((root) => watchSyncProgress(root, listener));
  }

  /** Every change of this root's syncs, unthrottled, for a receiver that throttles on its own (the hub). */
  watchChanges(onChange: ChangeListener): () => void {
    return this.#follow((root) => watchSyncChanges(root, onChange));
  }

  /** A watch of the root now that moves with the cache. */
  #follow(watch: (root: string) => () => void): () => void {
    const watcher = { watch, unwatch: watch(this.#root) };
    this.#watchers.add(watcher);
    return () => {
      if (!this.#watchers.delete(watcher)) return;
      watcher.unwatch();
    };
  }

  /**
   * "Move cache to…": asks `pickFolder` for a folder and moves the cache
   * there (copy, verify, switch, delete: move-root.ts), then uses it. The new
   * root is the folder itself when it is empty, else a `vm-cache` folder in
   * it. Refused while this controller's sync runs (pause or cancel it first);
   * a sync asked for during the move waits for it. A second call while one
   * runs (the picker still open) joins it.
   */
  moveCache(pickFolder: () => Promise<string | null>): Promise<MoveCacheResult> {
    return this.maintenance.run('move', async () => {
      if (this.inFlight) {
        throw new LockError(
          'a download is running: pause or cancel it, then move the cache (its partial download moves too)',
        );
      }
      // From the picker on, a sync waits: one started while the user chooses would hold the old root.
      let done = () => {};
      const moving = new Promise<void>((resolve) => {
        done = resolve;
      });
      this.#moving = moving;
      try {
        const picked = await pickFolder();
        if (picked === null) return { moved: false, root: this.#root, movedBytes: 0 };
        const abort = new AbortController();
        this.#moveAbort = abort;
        const outcome: MoveOutcome = await moveRoot({
          from: this.#root,
          picked,
          settings: this.#settings,
          logger: this.logger,
          signal: abort.signal,
          switchTo: (to) => this.#switchRoot(to),
        });
        return { moved: true, root: outcome.root, movedBytes: outcome.movedBytes };
      } finally {
        this.#moveAbort = undefined;
        if (this.#moving === moving) this.#moving = undefined;
        done();
      }
    });
  }

  /** From here on every call, watch and sync uses `to`. */
  #switchRoot(to: string): void {
    this.#root = to;
    this.syncOptions.root = to;
    for (const watcher of this.#watchers) {
      watcher.unwatch();
      watcher.unwatch = watcher.watch(to);
    }
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
