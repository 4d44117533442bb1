// A bandwidth cap shared by every connection of a sync (issue #16): a token
// bucket that a download waits on after each chunk it reads. While it waits
// the socket is not read, so TCP's own flow control slows the sender: nothing
// piles up in memory. The bucket holds at most a twentieth of a second of
// bytes, so the rate holds over any stretch of a second or more.
import { MIN_LIMIT_RATE } from '../../contract/status.js';
import { CancelError } from './errors.js';
import { sleep, untilAborted } from './waits.js';

// Below it the cap would turn every chunk into a stall: the contract's one definition, which the IPC call checks too.
export { MIN_LIMIT_RATE };

export class RateLimit {
  private bytesPerSecond = 0;
  /** Bytes that may go at once; negative while waiters owe time. */
  private tokens = 0;
  private last = 0;

  constructor(
    bytesPerSecond?: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.set(bytesPerSecond);
  }

  /** The cap in bytes per second, or undefined for none. Takes effect for the next chunk, mid-sync too. */
  get rate(): number | undefined {
    return this.bytesPerSecond > 0 ? this.bytesPerSecond : undefined;
  }

  set(bytesPerSecond: number | undefined): void {
    if (
      bytesPerSecond !== undefined &&
      !(Number.isFinite(bytesPerSecond) && bytesPerSecond >= MIN_LIMIT_RATE)
    ) {
      throw new RangeError(
        `limitRate: expected at least ${MIN_LIMIT_RATE} bytes per second, got ${bytesPerSecond}`,
      );
    }
    // What was earned at the old rate is kept: a slider moved often must not slow the download.
    if (this.bytesPerSecond > 0) this.refill();
    this.bytesPerSecond = bytesPerSecond ?? 0;
    this.tokens = Math.min(this.tokens, this.capacity());
    this.last = this.now();
  }

  /**
   * Waits until `bytes` may pass. Connections take turns, first come first
   * served, so one cannot race ahead while the others crawl. `onWait` runs at
   * least every 250 ms while it waits (in line or for tokens): a wait for the
   * cap is not a stall, and the stall watch hears so.
   */
  take(bytes: number, signal?: AbortSignal, onWait?: () => void): Promise<void> {
    if (this.bytesPerSecond <= 0) return Promise.resolve();
    const ticker = onWait ? setInterval(onWait, 250) : undefined;
    const turn = this.line.then(() => this.pay(bytes, signal));
    // The next in line waits for this one whatever becomes of it (a cancel).
    this.line = turn.catch(() => {});
    // A cancel does not wait for its turn (when the turn comes, it pays nothing).
    return untilAborted(turn, signal)
      .catch((err: unknown) => {
        throw signal?.aborted ? new CancelError() : err;
      })
      .finally(() => clearInterval(ticker));
  }

  /** Tail of the line of connections waiting their turn. */
  private line: Promise<void> = Promise.resolve();

  private async pay(bytes: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) throw new CancelError();
    this.refill();
    this.tokens -= bytes;
    while (this.tokens < 0 && this.bytesPerSecond > 0) {
      const waitMs = Math.min(250, (-this.tokens / this.bytesPerSecond) * 1000);
      await sleep(Math.max(1, waitMs), signal);
      this.refill();
    }
  }

  private capacity(): number {
    return Math.max(16 << 10, this.bytesPerSecond / 20);
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.capacity(), this.tokens + ((t - this.last) / 1000) * this.bytesPerSecond);
    this.last = t;
  }
}

/**
 * A rate as curl's --limit-rate spells it: bytes, or a number with K, M or G
 * (powers of 1024), e.g. `24M`, `500K`, `1.5M`. Undefined when it is not one.
 */
export function parseRate(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) return undefined;
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const value = Math.round(Number(m[1]) * scale);
  return value > 0 ? value : undefined;
}
