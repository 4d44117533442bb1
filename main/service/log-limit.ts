// A cap on what one page can make the main process write to the log. A page
// that floods the hub with malformed or forbidden calls is worth one look in
// the log, not ten thousand lines: each sender gets at most `lines` lines per
// `intervalMs` window; the rest are counted and summed up in one line when
// the window ends (or when the hub shuts down), so nothing goes unmentioned.

export interface LogLimitOptions {
  /** Lines one sender may cause per window. Default 20. */
  lines?: number;
  /** Window length (ms). Default 60 000. */
  intervalMs?: number;
}

interface Window {
  used: number;
  suppressed: number;
  timer: NodeJS.Timeout;
}

export class PerSenderLogLimit {
  private readonly windows = new Map<number, Window>();
  private readonly lines: number;
  private readonly intervalMs: number;

  constructor(
    private readonly write: (line: string) => void,
    options: LogLimitOptions = {},
  ) {
    this.lines = options.lines ?? 20;
    this.intervalMs = options.intervalMs ?? 60_000;
  }

  log(sender: number, line: string): void {
    let window = this.windows.get(sender);
    if (!window) {
      // A fixed window per sender, opened by its first line: the map holds
      // only senders that logged within the last interval.
      const timer = setTimeout(() => this.close(sender), this.intervalMs);
      // A pending summary must not keep a process (a test, a CLI host) alive.
      timer.unref?.();
      window = { used: 0, suppressed: 0, timer };
      this.windows.set(sender, window);
    }
    if (window.used < this.lines) {
      window.used++;
      this.write(line);
    } else {
      window.suppressed++;
    }
  }

  /** Writes every pending summary now and stops the timers. */
  flush(): void {
    for (const sender of [...this.windows.keys()]) this.close(sender);
  }

  private close(sender: number): void {
    const window = this.windows.get(sender);
    if (!window) return;
    this.windows.delete(sender);
    clearTimeout(window.timer);
    if (window.suppressed > 0) {
      const seconds = Math.round(this.intervalMs / 100) / 10;
      this.write(
        `suppressed ${window.suppressed} more line(s) like the above from sender ${sender} within ${seconds}s`,
      );
    }
  }
}
