// The phrases that depend on state: which of the table's words an artifact's
// step, a delta update or a sync's phase calls for.
import type { ArtifactProgress, SyncPhase, SyncProgress } from '../../contract/progress.js';
import { type L10n, shortSha } from './format.js';

/** Phases in which a sync is still running (Cancel applies). */
export function isRunning(phase: SyncPhase): boolean {
  return phase !== 'done' && phase !== 'failed' && phase !== 'cancelled';
}

/** A sync that ended because it was paused: its partials are kept and Resume goes on from them. */
export function isPaused(p: Pick<SyncProgress, 'phase' | 'paused'>): boolean {
  return p.phase === 'cancelled' && p.paused === true;
}

/** The panel's state in one word: a sync phase, or `paused` (a cancel that was a pause). */
export function stateOf(p: Pick<SyncProgress, 'phase' | 'paused'>): SyncPhase | 'paused' {
  return isPaused(p) ? 'paused' : p.phase;
}

/** The line under the heading: the phase's words, or "Paused — 1.2 GB of 3.1 GB". */
export function phaseWords(p: SyncProgress, t: L10n): string {
  if (isPaused(p)) return t.words.pausedAt(t.format.bytes(p.receivedBytes), t.format.bytes(p.totalBytes));
  return t.words.phases[p.phase];
}

export function artifactName(a: { agent: string; version: string; arch: string }, t: L10n): string {
  return t.words.artifactName(a.agent, a.version, a.arch);
}

/**
 * The verification step of one artifact, in words; the visible part of the
 * row's status. `phase` matters once the sync has ended: an artifact left
 * queued or half-downloaded by a cancel is paused, not waiting.
 */
export function artifactStateWords(a: ArtifactProgress, phase: SyncPhase, t: L10n): string {
  const w = t.words.artifact;
  if (!isRunning(phase) && (a.state === 'queued' || a.state === 'downloading' || a.state === 'stalled')) {
    if (a.receivedBytes === 0) return w.notDownloaded;
    return phase === 'cancelled' ? w.paused : w.stopped;
  }
  switch (a.state) {
    case 'queued':
      return w.queued;
    case 'downloading':
      return a.attempt > 1 ? w.downloadingAttempt(t.format.count(a.attempt)) : w.downloading;
    case 'stalled':
      return w.stalled;
    case 'verifying':
      return w.verifying;
    case 'verified':
    case 'cached':
      return `${w.verified} ${shortSha(a.sha256)}`;
    case 'failed':
      return w.failed;
  }
}

/** "Reused 2.70 GB from the cached version, downloading 310 MB" (or why it is downloaded whole). */
export function deltaWords(a: ArtifactProgress, t: L10n): string | undefined {
  const delta = a.delta;
  if (!delta) return undefined;
  const finished = a.state === 'verified' || a.state === 'cached' || a.state === 'failed';
  if (delta.fallback !== undefined) return t.words.deltaWhole(delta.fallback, finished);
  return t.words.deltaReuse(t.format.bytes(delta.reuseBytes), t.format.bytes(delta.fetchBytes), finished);
}
