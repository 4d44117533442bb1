// Progress for one sync: the state every subscriber sees, throttled to one
// event per 100 ms, with every state change and the final state delivered at
// once. The rate is smoothed over the last few seconds, so a stall shows as a
// falling rate instead of a slowly sagging all-time average.
import type { ErrorInfo } from '../../contract/errors.js';
import type {
  ArtifactProgress,
  ArtifactState,
  ProgressListener,
  SyncPhase,
  SyncProgress,
} from '../../contract/progress.js';
import type { SelectedArtifact } from './manifest.js';

export const PROGRESS_INTERVAL_MS = 100;
const RATE_WINDOW_MS = 5_000;

export class ProgressTracker {
  private phase: SyncPhase = 'checking';
  private artifacts = new Map<string, ArtifactProgress>();
  private attempt = 1;
  private error: ErrorInfo | undefined;
  private readonly startedAt: number;
  private readonly listeners = new Set<ProgressListener>();
  private lastEmit = 0;
  private timer: NodeJS.Timeout | undefined;
  private finished = false;
  /** Bytes that actually came over the network (resumed bytes are not "speed"). */
  private transferred = 0;
  private samples: Array<{ t: number; bytes: number }> = [];

  constructor(
    readonly root: string,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  subscribe(listener: ProgressListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get isFinished(): boolean {
    return this.finished;
  }

  snapshot(): SyncProgress {
    const at = this.now();
    const artifacts = [...this.artifacts.values()].map((a) => ({ ...a }));
    let receivedBytes = 0;
    let totalBytes = 0;
    for (const a of artifacts) {
      receivedBytes += a.receivedBytes;
      totalBytes += a.sizeBytes;
    }
    const bytesPerSecond = this.finished ? 0 : this.rate(at);
    const left = totalBytes - receivedBytes;
    const etaSeconds = left === 0 ? 0 : bytesPerSecond > 0 ? left / bytesPerSecond : null;
    return {
      root: this.root,
      phase: this.phase,
      artifacts,
      receivedBytes,
      totalBytes,
      bytesPerSecond,
      etaSeconds,
      attempt: this.attempt,
      ...(this.error ? { error: this.error } : {}),
      startedAt: this.startedAt,
      at,
    };
  }

  setPhase(phase: SyncPhase): void {
    if (this.phase === phase) return;
    this.phase = phase;
    this.emitNow();
  }

  setAttempt(attempt: number): void {
    this.attempt = attempt;
    this.emitNow();
  }

  setArtifacts(list: SelectedArtifact[]): void {
    this.artifacts = new Map(
      list.map((a) => [
        a.key,
        {
          ...a,
          receivedBytes: 0,
          state: 'queued' as ArtifactState,
          attempt: 0,
        },
      ]),
    );
    this.emitNow();
  }

  artifact(
    key: string,
    state: ArtifactState,
    patch: Partial<Pick<ArtifactProgress, 'receivedBytes' | 'attempt' | 'error'>> = {},
  ): void {
    const a = this.artifacts.get(key);
    if (!a) return;
    const changed = a.state !== state || patch.attempt !== undefined || patch.error !== undefined;
    a.state = state;
    if (patch.receivedBytes !== undefined) a.receivedBytes = patch.receivedBytes;
    if (patch.attempt !== undefined) a.attempt = patch.attempt;
    if (patch.error !== undefined) a.error = patch.error;
    else if (state !== 'failed') delete a.error;
    if (state === 'verified' || state === 'cached') a.receivedBytes = a.sizeBytes;
    if (changed) this.emitNow();
    else this.emitSoon();
  }

  /** Bytes arrived for `key` over the network. */
  addBytes(key: string, n: number): void {
    const a = this.artifacts.get(key);
    if (!a) return;
    a.receivedBytes += n;
    this.transferred += n;
    this.emitSoon();
  }

  /** Ends the sync: one final event, then silence. */
  finish(phase: 'done' | 'failed' | 'cancelled', error?: ErrorInfo): void {
    if (this.finished) return;
    this.phase = phase;
    this.error = error;
    this.finished = true;
    // Nothing is in motion any more: a cancelled download waits to be resumed.
    for (const a of this.artifacts.values()) {
      if (a.state === 'downloading' || a.state === 'stalled' || a.state === 'verifying') {
        a.state = phase === 'cancelled' ? 'queued' : a.state === 'verifying' ? 'failed' : 'queued';
      }
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.deliver();
  }

  private rate(at: number): number {
    this.samples.push({ t: at, bytes: this.transferred });
    while (this.samples.length > 2 && at - this.samples[0]!.t > RATE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const dt = at - first.t;
    if (dt < 250) return 0;
    return ((this.transferred - first.bytes) * 1000) / dt;
  }

  /** The first event, sent right after the call that started the sync. */
  announce(): void {
    this.emitNow();
  }

  private emitNow(): void {
    if (this.finished) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.deliver();
  }

  private emitSoon(): void {
    if (this.finished || this.timer) return;
    const wait = this.lastEmit + PROGRESS_INTERVAL_MS - this.now();
    if (wait <= 0) {
      this.deliver();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // Timers may fire a millisecond early by the wall clock: try again rather than break the interval.
      this.emitSoon();
    }, wait);
    // A pending progress tick must never keep a CLI process alive.
    this.timer.unref?.();
  }

  private deliver(): void {
    this.lastEmit = this.now();
    if (this.listeners.size === 0) {
      // Keep the rate window fed even when nobody listens, so a late subscriber sees a real rate.
      this.rate(this.lastEmit);
      return;
    }
    const event = this.snapshot();
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A broken subscriber must not break the download.
      }
    }
  }
}
