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
import {
  INITIAL_PROGRESS,
  type ProgressEvent,
  type ProgressState,
  reduceProgress,
} from './progress-state.js';
import { TrailingThrottle } from './throttle.js';

export const PROGRESS_INTERVAL_MS = 100;
const RATE_WINDOW_MS = 5_000;
const HEARTBEAT_MS = 1_000;

export class ProgressTracker {
  private state: ProgressState = INITIAL_PROGRESS;
  private readonly startedAt: number;
  private readonly listeners = new Set<ProgressListener>();
  /** Told of every change, unthrottled, with no snapshot made: for a receiver with a throttle of its own. */
  private readonly observers = new Set<() => void>();
  private readonly throttle = new TrailingThrottle<void>(PROGRESS_INTERVAL_MS, () => this.deliver());
  private samples: Array<{ t: number; bytes: number }> = [];
  private heartbeat: NodeJS.Timeout | undefined;
  /** Set by a pause: the cancel that follows ends the sync as paused. */
  private pausing = false;
  private pauseLasts = true;

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

  /** `onChange` runs on every change (bytes too); call snapshot() when you want the state. */
  observe(onChange: () => void): () => void {
    this.observers.add(onChange);
    return () => this.observers.delete(onChange);
  }

  get isFinished(): boolean {
    return this.state.finished;
  }

  snapshot(): SyncProgress {
    const at = this.now();
    const { state } = this;
    const artifacts = state.artifacts.map((a) => ({ ...a }));
    let receivedBytes = 0;
    let totalBytes = 0;
    // Chunks still to be copied from local files take no network time.
    let toCopy = 0;
    for (const a of artifacts) {
      receivedBytes += a.receivedBytes;
      totalBytes += a.sizeBytes;
      if (a.delta && !a.delta.fallback) toCopy += Math.max(0, a.delta.reuseBytes - a.delta.reusedBytes);
    }
    const bytesPerSecond = state.finished ? 0 : this.rate(at);
    const left = Math.max(0, totalBytes - receivedBytes - toCopy);
    // While a download is stalled no rate predicts anything: unknown, and the UI says why.
    const stalled = artifacts.some((a) => a.state === 'stalled');
    const etaSeconds = left === 0 ? 0 : stalled ? null : bytesPerSecond > 0 ? left / bytesPerSecond : null;
    return {
      root: this.root,
      phase: state.phase,
      artifacts,
      receivedBytes,
      totalBytes,
      bytesPerSecond,
      etaSeconds,
      attempt: state.attempt,
      ...(state.error ? { error: state.error } : {}),
      ...(this.pausing && state.finished && state.phase === 'cancelled' ? { paused: true } : {}),
      startedAt: this.startedAt,
      at,
    };
  }

  /** Every change goes through the reducer; state changes are delivered at once, byte counts throttled. */
  dispatch(event: ProgressEvent): void {
    const { state, urgent } = reduceProgress(this.state, event);
    if (state === this.state) return;
    this.state = state;
    this.keepRateHonest();
    if (state.finished) {
      // One final event, then silence.
      this.throttle.pushNow();
      this.throttle.close();
    } else if (urgent) this.throttle.pushNow();
    else this.throttle.push();
    this.tellObservers();
  }

  setPhase(phase: SyncPhase): void {
    this.dispatch({ type: 'phase', phase });
  }

  setAttempt(attempt: number): void {
    this.dispatch({ type: 'attempt', attempt });
  }

  setArtifacts(artifacts: SelectedArtifact[]): void {
    this.dispatch({ type: 'selected', artifacts });
  }

  artifact(
    key: string,
    state: ArtifactState,
    patch: Partial<Pick<ArtifactProgress, 'receivedBytes' | 'attempt' | 'error'>> = {},
  ): void {
    this.dispatch({ type: 'artifact', key, state, ...patch });
  }

  /** Bytes arrived for `key` over the network. */
  addBytes(key: string, bytes: number): void {
    this.dispatch({ type: 'bytes', key, bytes });
  }

  /** The delta plan for `key`, or (with `fallback`) why it is downloaded whole. */
  delta(
    key: string,
    plan: { reuseBytes: number; fetchBytes: number; reusedBytes?: number; fallback?: string },
  ): void {
    this.dispatch({ type: 'delta', key, ...plan });
  }

  /** Bytes of `key` copied from a local file. */
  addReused(key: string, bytes: number): void {
    this.dispatch({ type: 'reused', key, bytes });
  }

  /**
   * The coming cancel is a pause: the final event says `paused`. `lasting`: the
   * user's own pause, which other processes and later runs see (the marker);
   * a pause for the machine's sleep is only for this run.
   */
  markPaused(lasting = true): void {
    this.pausing = true;
    this.pauseLasts = lasting;
  }

  /** A pause that other processes and later runs should see (see markPaused). */
  get lastingPause(): boolean {
    return this.pausing && this.pauseLasts;
  }

  /** Ends the sync: one final event, then silence. */
  finish(phase: 'done' | 'failed' | 'cancelled', error?: ErrorInfo): void {
    this.dispatch({ type: 'finished', phase, ...(error ? { error } : {}) });
  }

  /**
   * While downloading, an event at least every second even when no byte
   * arrives: the rate is measured over the last seconds, so in a stall it
   * falls toward zero instead of freezing at the last value shown.
   */
  private keepRateHonest(): void {
    const running = !this.state.finished && this.state.phase === 'downloading';
    if (running && !this.heartbeat) {
      this.heartbeat = setInterval(() => {
        this.throttle.push();
        this.tellObservers();
      }, HEARTBEAT_MS);
      this.heartbeat.unref();
    } else if (!running && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  private rate(at: number): number {
    const { transferred } = this.state;
    this.samples.push({ t: at, bytes: transferred });
    while (this.samples.length > 2 && at - this.samples[0]!.t > RATE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const dt = at - first.t;
    if (dt < 250) return 0;
    return ((transferred - first.bytes) * 1000) / dt;
  }

  /** The first event, sent right after the call that started the sync. */
  announce(): void {
    this.throttle.pushNow();
    // A window that subscribed before the sync began hears of it now, not once the manifest is in.
    this.tellObservers();
  }

  private tellObservers(): void {
    for (const onChange of this.observers) {
      try {
        onChange();
      } catch {
        // A broken observer must not break the download.
      }
    }
  }

  private deliver(): void {
    if (this.listeners.size === 0) {
      // Keep the rate window fed even when nobody listens, so a late subscriber sees a real rate.
      this.rate(this.now());
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
