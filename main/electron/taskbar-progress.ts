// The download on the taskbar (Windows), the dock (macOS) and launchers that
// read the LauncherEntry API (Linux): BrowserWindow.setProgressBar on every
// window the plugin opened or the host registered. Progress comes up to ten
// times a second; the bar changes at most once per interval (the last value
// always goes out), and the end of a sync at once.
import type { BrowserWindow, ProgressBarOptions } from 'electron';
import type { SyncProgress } from '../../contract/progress.js';

export interface Bar {
  /** 0..1, or -1 for no bar. */
  value: number;
  mode: ProgressBarOptions['mode'];
}

export const NO_BAR: Readonly<Bar> = Object.freeze({ value: -1, mode: 'none' });

/** At most this often a bar changes while bytes arrive (4 a second: plenty for a taskbar). */
export const BAR_INTERVAL_MS = 250;

type BarWindow = Pick<BrowserWindow, 'setProgressBar' | 'isDestroyed' | 'once'>;

/**
 * The bar for one event of a sync. Only a sync that is downloading shows one
 * (a launch that finds the cache current never flashes the taskbar); it ends
 * cleared when done or cancelled, in the error state when failed, and paused
 * when paused.
 */
export function barFor(p: SyncProgress, downloading: boolean): Bar {
  if (!downloading) return NO_BAR;
  const value = p.totalBytes > 0 ? Math.min(1, Math.max(0, p.receivedBytes / p.totalBytes)) : 0;
  switch (p.phase) {
    case 'done':
      return NO_BAR;
    case 'failed':
      return { value, mode: 'error' };
    case 'cancelled':
      // A pause keeps the bar where it stopped (Windows shows it yellow); a cancel takes it away.
      return p.paused === true ? { value, mode: 'paused' } : NO_BAR;
    default:
      return { value, mode: 'normal' };
  }
}

export class TaskbarProgress {
  private readonly windows = new Set<BarWindow>();
  private current: Bar = NO_BAR;
  private shown: Bar = NO_BAR;
  private shownAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs = BAR_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Shows the bar on `win` too, from now on (at once, if a download is showing). */
  add(win: BarWindow): void {
    if (this.windows.has(win) || win.isDestroyed()) return;
    this.windows.add(win);
    win.once('closed', () => this.windows.delete(win));
    if (!sameBar(this.shown, NO_BAR)) paint(win, this.shown);
  }

  /** The newest bar; `urgent` (a sync's end) skips the interval. */
  show(bar: Bar, urgent = false): void {
    this.current = bar;
    if (sameBar(bar, this.shown)) {
      this.cancelTimer();
      return;
    }
    const wait = this.shownAt + this.intervalMs - this.now();
    if (urgent || wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait);
  }

  /** Clears the bar everywhere and forgets the windows. */
  dispose(): void {
    this.cancelTimer();
    this.current = NO_BAR;
    if (!sameBar(this.shown, NO_BAR)) for (const win of this.windows) paint(win, NO_BAR);
    this.shown = NO_BAR;
    this.windows.clear();
  }

  private flush(): void {
    this.cancelTimer();
    this.shown = this.current;
    this.shownAt = this.now();
    for (const win of this.windows) paint(win, this.shown);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function paint(win: BarWindow, bar: Bar): void {
  if (win.isDestroyed()) return;
  // Cosmetic, and called from a timer: a window that cannot show a bar (a host's stand-in, a
  // window closing under us) must never take the app down with an uncaught exception.
  try {
    if (bar.value < 0) win.setProgressBar(-1);
    else win.setProgressBar(bar.value, { mode: bar.mode });
  } catch {}
}

/** The same to the eye: a thousandth of the way is less than a pixel of any taskbar. */
function sameBar(a: Bar, b: Bar): boolean {
  return a.mode === b.mode && Math.abs(a.value - b.value) < 0.001;
}
