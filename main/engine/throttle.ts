// The one throttle for progress: the engine's onProgress events (one per
// sync) and the IPC hub's messages (one per window) both go through it. The
// first value goes out at once (a late subscriber sees the snapshot without
// waiting), later ones at most once per interval, and the newest value is
// always delivered on the trailing edge, so the last state ('done', 'failed')
// is never lost to the limit.

export class TrailingThrottle<T> {
  private last = Number.NEGATIVE_INFINITY;
  private pending: { value: T } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly intervalMs: number,
    private readonly deliver: (value: T) => void,
    // A monotonic clock: Date.now() counts whole milliseconds, so two messages
    // could be 99.x ms apart and an 11th could fit in a second.
    private readonly now: () => number = () => performance.now(),
  ) {}

  push(value: T): void {
    if (this.closed) return;
    const wait = this.last + this.intervalMs - this.now();
    if (wait <= 0 && !this.timer) {
      this.emit(value);
      return;
    }
    // Only the newest value matters: each progress message is a full snapshot.
    this.pending = { value };
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), Math.max(0, wait));
      // A pending tick must not keep a process (a test, a CLI host) alive.
      this.timer.unref?.();
    }
  }

  /** Delivers `value` now, whatever the interval (a change of state); a pending value is superseded. */
  pushNow(value: T): void {
    if (this.closed) return;
    this.pending = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.emit(value);
  }

  /** Stops for good; a pending value is dropped (the receiver is gone). */
  close(): void {
    this.closed = true;
    this.pending = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private flush(): void {
    this.timer = undefined;
    // Timers may fire a millisecond early by the wall clock; never deliver inside the interval.
    const wait = this.last + this.intervalMs - this.now();
    if (wait > 0 && this.pending && !this.closed) {
      this.timer = setTimeout(() => this.flush(), wait);
      this.timer.unref?.();
      return;
    }
    const pending = this.pending;
    this.pending = undefined;
    if (pending && !this.closed) this.emit(pending.value);
  }

  private emit(value: T): void {
    // Stamped once the value is delivered, not before: the receiver's clock then sees at least the
    // interval between two deliveries, however long building or sending one took (a GC pause).
    try {
      this.deliver(value);
    } finally {
      this.last = this.now();
    }
  }
}
