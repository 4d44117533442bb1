// The download as a background task of the app: the taskbar/dock shows it,
// the OS tells the user when it is done or needs attention, closing the
// first-run window leaves it running, and a sleep of the machine does not
// leave it hanging on dead connections. Each part needs one Electron object;
// without it (a host's older stand-ins) that part is simply not there.
import type { BrowserWindow, WebContents } from 'electron';
import type { SyncPhase, SyncProgress } from '../../contract/progress.js';
import type { VmCacheController, VmCacheLogger } from '../service/controller.js';
import { type DesktopWords, desktopWords } from './desktop-words.js';
import { type FirstRunClose, guardFirstRunClose } from './first-run-close.js';
import { DesktopNotifier } from './notifications.js';
import { restartAfterSleep } from './sleep-resume.js';
import { barFor, TaskbarProgress } from './taskbar-progress.js';
import type { ElectronParts } from './types.js';

/** setupVmCache's options for the download in the background (documented in docs/electron.md). */
export interface BackgroundOptions {
  /**
   * Closing the first-run window while the images download: 'continue' (the
   * default) closes it and a notification says, once per run, that the
   * download goes on; 'ask' asks first (continue in the background, or stop
   * the download). Either way the download only ends with the app.
   */
  firstRunClose?: FirstRunClose;
  /** The download's progress on every window's taskbar button / the dock. Default true. */
  taskbarProgress?: boolean;
  /** OS notifications: images ready, download needs attention, downloading in the background. Default true. */
  notifications?: boolean;
  /** Restart a download the machine slept through as soon as it wakes. Default true. */
  resumeAfterSleep?: boolean;
  /** The notifications' and the dialog's words, all or some (English by default). */
  desktopWords?: Partial<DesktopWords>;
}

export interface BackgroundDeps {
  electron: ElectronParts;
  controller: VmCacheController;
  logger?: VmCacheLogger | undefined;
  /** Opens (or focuses) the settings page: where a notification's click leads. */
  openSettings(): void;
  /** The plugin's first-run window, if open: while it has the focus the user is watching, and no notification is needed. */
  firstRunWindow(): BrowserWindow | undefined;
}

const ENDS: ReadonlySet<SyncPhase> = new Set(['done', 'failed', 'cancelled']);

export function checkFirstRunClose(value: unknown): FirstRunClose {
  if (value === undefined) return 'continue';
  if (value === 'continue' || value === 'ask') return value;
  throw new Error(
    `electron-vm-cache: firstRunClose is 'continue' or 'ask', not ${JSON.stringify(String(value).slice(0, 40))}`,
  );
}

export class BackgroundDownload {
  private readonly taskbar: TaskbarProgress | undefined;
  private readonly notifier: DesktopNotifier;
  private readonly words: DesktopWords;
  private readonly firstRunClose: FirstRunClose;
  private readonly undo: Array<() => void> = [];
  /** The sync being followed: when it started, whether it downloads anything, whether its end was seen. */
  private sync: { startedAt: number; downloading: boolean; ended: boolean } | undefined;
  private quitting = false;
  private disposed = false;
  private announced = false;

  constructor(
    private readonly deps: BackgroundDeps,
    private readonly options: BackgroundOptions = {},
  ) {
    const { electron, controller } = deps;
    this.words = desktopWords(options.desktopWords);
    this.notifier = new DesktopNotifier(options.notifications === false ? undefined : electron.Notification);
    this.taskbar = options.taskbarProgress === false ? undefined : new TaskbarProgress();
    const { app } = electron;
    // Without a dialog there is nothing to ask with; without 'before-quit' a quit would be asked about too.
    const canAsk = electron.dialog !== undefined && app.on !== undefined;
    this.firstRunClose = checkFirstRunClose(options.firstRunClose) === 'ask' && canAsk ? 'ask' : 'continue';
    if (app.on) {
      const onQuit = () => {
        this.quitting = true;
      };
      app.on('before-quit', onQuit);
      this.undo.push(() => app.removeListener?.('before-quit', onQuit));
    }
    this.undo.push(controller.watch((p) => this.follow(p)));
  }

  /** Whether ready() has anything to do (setup waits for the app only when it has). */
  get needsReady(): boolean {
    return this.options.resumeAfterSleep !== false && this.deps.electron.powerMonitor !== undefined;
  }

  /** The app is ready: powerMonitor may be used now. */
  ready(): void {
    const { powerMonitor } = this.deps.electron;
    if (this.disposed || !this.needsReady || !powerMonitor) return;
    this.undo.push(restartAfterSleep(powerMonitor, this.deps.controller, this.deps.logger));
  }

  /** A window of the plugin's or the host's: it shows the download on its taskbar button. */
  addWindow(win: BrowserWindow): void {
    if (!this.disposed) this.taskbar?.add(win);
  }

  /** A host window registered by its webContents: its window, when Electron can say which. */
  addContents(contents: WebContents): void {
    const win = this.deps.electron.BrowserWindow.fromWebContents?.(contents);
    if (win) this.addWindow(win);
  }

  /** The plugin opened its first-run window: closing it leaves the download running. */
  firstRunOpened(win: BrowserWindow): void {
    const { controller, electron } = this.deps;
    guardFirstRunClose(win, {
      mode: this.firstRunClose,
      dialog: electron.dialog,
      words: this.words,
      downloading: () => controller.syncing,
      leaving: () => this.quitting || this.disposed,
      stop: () => controller.cancel(),
      announce: () => this.announce(),
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const undo of this.undo.splice(0)) undo();
    this.taskbar?.dispose();
    this.notifier.dispose();
  }

  private follow(p: SyncProgress): void {
    if (this.disposed) return;
    const ended = ENDS.has(p.phase);
    let sync = this.sync;
    // A new sync: another start time, or events again after an end (two syncs started in one millisecond).
    if (!sync || sync.startedAt !== p.startedAt || (sync.ended && !ended)) {
      sync = { startedAt: p.startedAt, downloading: false, ended: false };
      this.sync = sync;
    }
    if (p.phase === 'downloading') sync.downloading = true;
    this.taskbar?.show(barFor(p, sync.downloading), ended);
    if (ended && !sync.ended) {
      sync.ended = true;
      this.tellEnd(p, sync.downloading).catch(() => {});
    }
  }

  /** Ready, after a download (not after a launch that found the cache current); failed, when it matters. */
  private async tellEnd(p: SyncProgress, downloading: boolean): Promise<void> {
    if (this.userIsWatching()) return;
    const { words } = this;
    const openSettings = () => this.deps.openSettings();
    if (p.phase === 'done' && downloading) {
      this.notifier.show(words.readyTitle, words.readyBody, openSettings);
    } else if (p.phase === 'failed') {
      // A check that failed (offline at launch, say) while complete images are in place needs nothing of the user.
      if (!downloading && (await this.deps.controller.hasCompleteCache().catch(() => false))) return;
      if (!this.disposed) this.notifier.show(words.failedTitle, words.failedBody, openSettings);
    }
  }

  /** Once per run: the first-run window closed and the download goes on. */
  private announce(): void {
    if (this.announced || this.disposed) return;
    const { words } = this;
    this.announced = this.notifier.show(words.backgroundTitle, words.backgroundBody, () =>
      this.deps.openSettings(),
    );
  }

  private userIsWatching(): boolean {
    const win = this.deps.firstRunWindow();
    return win !== undefined && !win.isDestroyed() && win.isFocused();
  }
}
