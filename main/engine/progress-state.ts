// The one place that decides how a sync's progress changes: the pipeline
// (manifest fetch, plan, downloads, commit) reports events, and this pure
// reducer turns them into the next state, and says whether the change is one
// to show at once (a state change) or one that can wait for the throttle (bytes).
import type { ErrorInfo } from '../../contract/errors.js';
import type { ArtifactProgress, ArtifactState, SyncPhase } from '../../contract/progress.js';
import type { SelectedArtifact } from './manifest.js';

export type ProgressEvent =
  /** The artifacts this sync will bring into the cache, all queued. */
  | { type: 'selected'; artifacts: readonly SelectedArtifact[] }
  | { type: 'phase'; phase: SyncPhase }
  /** The attempt number of the current manifest fetch or download. */
  | { type: 'attempt'; attempt: number }
  | {
      type: 'artifact';
      key: string;
      state: ArtifactState;
      receivedBytes?: number;
      attempt?: number;
      error?: ErrorInfo;
    }
  /** Bytes of `key` that came over the network (resumed bytes are reported with the state). */
  | { type: 'bytes'; key: string; bytes: number }
  /** A delta plan for `key` (what is copied, what is fetched), or why it is downloaded whole after all. */
  | {
      type: 'delta';
      key: string;
      reuseBytes: number;
      fetchBytes: number;
      /** Of reuseBytes, already in place (a resumed partial holds them). */
      reusedBytes?: number;
      fallback?: string;
    }
  /** Bytes of `key` copied from a local file: placed, but not over the network (the rate leaves them out). */
  | { type: 'reused'; key: string; bytes: number }
  /** The end: nothing changes after it. */
  | { type: 'finished'; phase: 'done' | 'failed' | 'cancelled'; error?: ErrorInfo };

export interface ProgressState {
  readonly phase: SyncPhase;
  readonly artifacts: readonly ArtifactProgress[];
  readonly attempt: number;
  readonly error: ErrorInfo | undefined;
  readonly finished: boolean;
  /** Bytes that came over the network in this sync: the rate is made of these. */
  readonly transferred: number;
}

export const INITIAL_PROGRESS: ProgressState = {
  phase: 'checking',
  artifacts: [],
  attempt: 1,
  error: undefined,
  finished: false,
  transferred: 0,
};

export interface Reduced {
  state: ProgressState;
  /** A change of state that subscribers see at once; byte counts wait for the throttle. */
  urgent: boolean;
}

/** The next state; the same object when the event changes nothing. */
export function reduceProgress(state: ProgressState, event: ProgressEvent): Reduced {
  const same = { state, urgent: false };
  if (state.finished) return same;
  switch (event.type) {
    case 'selected':
      return {
        state: {
          ...state,
          artifacts: event.artifacts.map((a) => ({
            key: a.key,
            agent: a.agent,
            version: a.version,
            arch: a.arch,
            sha256: a.sha256,
            sizeBytes: a.sizeBytes,
            receivedBytes: 0,
            state: 'queued',
            attempt: 0,
          })),
        },
        urgent: true,
      };
    case 'phase':
      return event.phase === state.phase ? same : { state: { ...state, phase: event.phase }, urgent: true };
    case 'attempt':
      return { state: { ...state, attempt: event.attempt }, urgent: true };
    case 'artifact':
      return withArtifact(state, event.key, (a) => {
        const next: ArtifactProgress = { ...a, state: event.state };
        if (event.receivedBytes !== undefined) next.receivedBytes = event.receivedBytes;
        if (event.attempt !== undefined) next.attempt = event.attempt;
        // An error belongs to the state it came with; only a failure keeps the one it had.
        if (event.error !== undefined) next.error = event.error;
        else if (event.state !== 'failed') delete next.error;
        if (event.state === 'verified' || event.state === 'cached') next.receivedBytes = a.sizeBytes;
        const urgent = a.state !== event.state || event.attempt !== undefined || event.error !== undefined;
        return { next, urgent };
      });
    case 'bytes': {
      const r = withArtifact(state, event.key, (a) => ({
        next: { ...a, receivedBytes: a.receivedBytes + event.bytes },
        urgent: false,
      }));
      return r.state === state
        ? same
        : { state: { ...r.state, transferred: state.transferred + event.bytes }, urgent: false };
    }
    case 'delta':
      return withArtifact(state, event.key, (a) => {
        const { reuseBytes, fetchBytes, reusedBytes = 0, fallback } = event;
        const delta = { reuseBytes, fetchBytes, reusedBytes, ...(fallback ? { fallback } : {}) };
        return { next: { ...a, delta }, urgent: true };
      });
    case 'reused':
      return withArtifact(state, event.key, (a) => ({
        next: {
          ...a,
          receivedBytes: a.receivedBytes + event.bytes,
          ...(a.delta ? { delta: { ...a.delta, reusedBytes: a.delta.reusedBytes + event.bytes } } : {}),
        },
        urgent: false,
      }));
    case 'finished':
      return {
        state: {
          ...state,
          phase: event.phase,
          error: event.error,
          finished: true,
          // Nothing is in motion any more: a cancelled or interrupted download waits to be resumed,
          // and a verification that did not finish did not pass.
          artifacts: state.artifacts.map((a) =>
            a.state === 'downloading' || a.state === 'stalled' || a.state === 'verifying'
              ? { ...a, state: a.state === 'verifying' && event.phase !== 'cancelled' ? 'failed' : 'queued' }
              : a,
          ),
        },
        urgent: true,
      };
  }
}

function withArtifact(
  state: ProgressState,
  key: string,
  change: (a: ArtifactProgress) => { next: ArtifactProgress; urgent: boolean },
): Reduced {
  const i = state.artifacts.findIndex((a) => a.key === key);
  if (i === -1) return { state, urgent: false };
  const { next, urgent } = change(state.artifacts[i]!);
  const artifacts = state.artifacts.slice();
  artifacts[i] = next;
  return { state: { ...state, artifacts }, urgent };
}
