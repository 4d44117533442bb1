// The settings page's maintenance actions (verify, clear) run one at a time,
// and a request for one that is already running or waiting joins it instead
// of starting another. A page that sends twenty verify calls gets one re-hash
// and twenty copies of the same report; one that alternates verify and clear
// still has at most one of each in line, so what it can queue is bounded.
// One at a time in this process because each takes the cache's lock anyway:
// a second one would only wait for it.

export class MaintenanceQueue<K extends string> {
  /** Settles (never rejects) when the last operation in line has. */
  private tail: Promise<unknown> = Promise.resolve();
  /** The operation of each kind that is running or waiting, if any. */
  private readonly pending = new Map<K, Promise<unknown>>();

  /** `work` runs after everything already in line, unless `key` is in line already: then its promise is returned. */
  run<T>(key: K, work: () => Promise<T>): Promise<T> {
    const joined = this.pending.get(key);
    if (joined) return joined as Promise<T>;
    const promise = this.tail.then(work);
    this.pending.set(key, promise);
    // Registered before any caller's reaction, so by the time a caller sees
    // the result the operation has left the line and a new call starts afresh.
    const leave = () => {
      if (this.pending.get(key) === promise) this.pending.delete(key);
    };
    this.tail = promise.then(leave, leave);
    return promise;
  }

  /** Kinds running or waiting. */
  get inLine(): K[] {
    return [...this.pending.keys()];
  }
}
