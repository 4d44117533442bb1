// Syncs in flight, so concurrent callers share one (same root, URL and arch
// set: the very same promise), and so a window that opens late can read the
// current state of a root's sync and follow it.
import type { ProgressListener, SyncProgress } from '../../contract/progress.js';
import type { SyncResult } from '../../contract/status.js';
import type { ResolvedOptions } from './options.js';
import { readPausedMarker, removePausedMarker, writePausedMarker } from './paused-marker.js';
import { ProgressTracker } from './progress.js';
import { startSync } from './sync.js';

interface InFlight {
  promise: Promise<SyncResult>;
  tracker: ProgressTracker;
  /** Cancels the shared sync, whoever asks. */
  abort: AbortController;
}

const byKey = new Map<string, InFlight>();
/** The last snapshot of a root's paused sync, until another sync of the root starts. */
const pausedByRoot = new Map<string, SyncProgress>();
const watchers = new Map<string, Set<ProgressListener>>();
/** Told of every change of a root's syncs, with a way to read the state: for receivers that throttle on their own. */
export type ChangeListener = (current: () => SyncProgress) => void;
const changeWatchers = new Map<string, Set<ChangeListener>>();

export function flightKey(root: string, manifestUrl: string, arches: string, trust: string): string {
  return JSON.stringify([root, manifestUrl, arches, trust]);
}

export function findFlight(key: string): InFlight | undefined {
  return byKey.get(key);
}

export function flightsForRoot(root: string): InFlight[] {
  return [...byKey.values()].filter((f) => f.tracker.root === root);
}

export function registerFlight(key: string, flight: InFlight): void {
  byKey.set(key, flight);
  // A sync of the root goes on from what a pause kept: it is paused no longer here (the marker
  // other processes read goes once the sync holds the root's lock: sync.ts).
  pausedByRoot.delete(flight.tracker.root);
  // Root watchers see every sync of their root, including ones started after they subscribed.
  flight.tracker.subscribe((p) => {
    for (const w of watchers.get(flight.tracker.root) ?? []) {
      try {
        w(p);
      } catch {
        // A broken watcher must not break the sync.
      }
    }
  });
  const current = () => flight.tracker.snapshot();
  flight.tracker.observe(() => {
    for (const w of changeWatchers.get(flight.tracker.root) ?? []) {
      try {
        w(current);
      } catch {
        // A broken watcher must not break the sync.
      }
    }
  });
  // A failed (or finished) sync leaves the map, so the next call starts afresh.
  const leave = () => {
    if (byKey.get(key) === flight) byKey.delete(key);
  };
  flight.promise.then(leave, leave);
}

/** The current state of the sync in flight for `root`, if any, else of its paused sync. */
export function getSyncProgress(root: string): SyncProgress | undefined {
  const flights = flightsForRoot(root);
  return flights.at(-1)?.tracker.snapshot() ?? pausedByRoot.get(root);
}

/**
 * A move took the cache, and the partials a pause kept, from `from` to `to`:
 * so goes the pause (here and in the marker; the move holds `to`'s lock).
 */
export async function carryPause(from: string, to: string): Promise<void> {
  const paused = pausedByRoot.get(from) ?? (await readPausedMarker(from));
  if (!paused) return;
  const moved = { ...paused, root: to };
  pausedByRoot.set(to, moved);
  await writePausedMarker(to, moved);
}

/** A clear (or a move) removed the partials a pause kept: there is nothing left to resume. */
export function forgetPaused(root: string): Promise<void> {
  pausedByRoot.delete(root);
  return removePausedMarker(root);
}

/**
 * Pauses the syncs of `root` in this process: each is cancelled (connections
 * closed, the lock let go, partials kept) and ends as `paused`, which the
 * root's watchers and later readers of its progress see until a sync of the
 * root starts again (a resume). Resolves once they have let go; false when
 * none ran. `lasting` (default true): the user's pause, which other processes
 * and later runs see until a sync of the root starts; false for one that is
 * only for this run (the machine's sleep).
 */
export async function pauseSync(root: string, options: { lasting?: boolean } = {}): Promise<boolean> {
  const flights = flightsForRoot(root);
  if (flights.length === 0) return false;
  for (const f of flights) {
    f.tracker.markPaused(options.lasting ?? true);
    f.abort.abort();
  }
  await Promise.allSettled(flights.map((f) => f.promise));
  const last = flights.at(-1)!.tracker.snapshot();
  // A sync that ended otherwise meanwhile (done, failed) was not paused.
  // (The sync itself wrote the marker other processes read, before it let go of the lock.)
  if (last.paused && flightsForRoot(root).length === 0) pausedByRoot.set(root, last);
  return flights.some((f) => f.tracker.snapshot().paused === true);
}

/**
 * Follows every sync of `root`: the current snapshot first (when a sync is in
 * flight), then its events and those of later syncs. Returns an unsubscribe function.
 */
export function watchSyncProgress(root: string, listener: ProgressListener): () => void {
  const unwatch = addWatcher(watchers, root, listener);
  const snapshot = getSyncProgress(root);
  if (snapshot) listener(snapshot);
  return unwatch;
}

/**
 * Like watchSyncProgress, but unthrottled and lazy: `onChange` hears of every
 * change (the sync in flight at once, if any) and reads the state through
 * `current()` when it wants it. For a receiver with a throttle of its own (the
 * IPC hub, one per window), so progress passes through one throttle, not two.
 */
export function watchSyncChanges(root: string, onChange: ChangeListener): () => void {
  const unwatch = addWatcher(changeWatchers, root, onChange);
  const flight = flightsForRoot(root).at(-1);
  const paused = pausedByRoot.get(root);
  if (flight) onChange(() => flight.tracker.snapshot());
  else if (paused) onChange(() => paused);
  return unwatch;
}

function addWatcher<T>(map: Map<string, Set<T>>, root: string, watcher: T): () => void {
  let set = map.get(root);
  if (!set) {
    set = new Set();
    map.set(root, set);
  }
  set.add(watcher);
  return () => {
    set.delete(watcher);
    if (set.size === 0 && map.get(root) === set) map.delete(root);
  };
}

/**
 * Runs `opts` through the pipeline as the flight `key`: its own tracker (the
 * first event right after the call), cancelled by the caller's signal, and
 * registered so the root's watchers and later callers find it. A sync and an
 * import start alike.
 */
export function startFlight(
  key: string,
  opts: ResolvedOptions,
  signal: AbortSignal | undefined,
): Promise<SyncResult> {
  const abort = new AbortController();
  if (signal?.aborted) abort.abort();
  const tracker = new ProgressTracker(opts.root);
  if (opts.onProgress) tracker.subscribe(opts.onProgress);
  const promise = startSync({ ...opts, signal: abort.signal }, tracker);
  // An app that fires the launch sync and forgets it must not crash on an
  // unhandled rejection; callers that await still see the error.
  promise.catch(() => {});
  linkAbort(signal, abort, promise);
  registerFlight(key, { promise, tracker, abort });
  queueMicrotask(() => tracker.announce());
  return promise;
}

/** Aborting `signal` aborts `target`; the link is dropped when `until` settles. */
export function linkAbort(
  signal: AbortSignal | undefined,
  target: AbortController,
  until: Promise<unknown> | undefined,
): void {
  if (!signal) return;
  if (signal.aborted) {
    target.abort();
    return;
  }
  const onAbort = () => target.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const drop = () => signal.removeEventListener('abort', onAbort);
  until?.then(drop, drop);
}
