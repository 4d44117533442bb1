// What the panel says for each phase and artifact state. Error words come from
// the contract (ERROR_WORDS), so the CLI and the panel never disagree.
import { describeDelta } from '../../contract/format.js';
import type { ArtifactProgress, SyncPhase } from '../../contract/progress.js';
import { shortSha } from './format.js';

export const PHASE_WORDS: Record<SyncPhase, string> = {
  checking: 'Checking for updates…',
  'waiting-for-lock': 'Waiting for another app instance to finish…',
  downloading: 'Downloading VM images…',
  verifying: 'Verifying downloads…',
  finalizing: 'Finalizing…',
  done: 'VM images are ready.',
  failed: 'Download failed.',
  cancelled: 'Download cancelled.',
};

/** Phases in which a sync is still running (Cancel applies). */
export function isRunning(phase: SyncPhase): boolean {
  return phase !== 'done' && phase !== 'failed' && phase !== 'cancelled';
}

/**
 * The verification step of one artifact, in words; the visible part of the
 * row's status. `phase` matters once the sync has ended: an artifact left
 * queued or half-downloaded by a cancel is paused, not waiting.
 */
export function artifactStateWords(a: ArtifactProgress, phase: SyncPhase = 'downloading'): string {
  if (!isRunning(phase) && (a.state === 'queued' || a.state === 'downloading' || a.state === 'stalled')) {
    if (a.receivedBytes === 0) return 'Not downloaded';
    return phase === 'cancelled' ? 'Paused' : 'Stopped';
  }
  switch (a.state) {
    case 'queued':
      return 'Waiting to download';
    case 'downloading':
      return a.attempt > 1 ? `Downloading (attempt ${a.attempt})` : 'Downloading';
    case 'stalled':
      return 'Stalled, waiting for data…';
    case 'verifying':
      return 'Verifying sha256…';
    case 'verified':
    case 'cached':
      return `sha256 verified ${shortSha(a.sha256)}`;
    case 'failed':
      return 'Failed';
  }
}

export function artifactName(a: { agent: string; version: string; arch: string }): string {
  return `${a.agent} ${a.version} (${a.arch})`;
}

/** "Reused 2.70 GB from the cached version, downloading 310 MB" (or why it is downloaded whole). */
export function deltaWords(a: ArtifactProgress): string | undefined {
  const words = describeDelta(
    a.delta,
    a.state === 'verified' || a.state === 'cached' || a.state === 'failed',
  );
  return words && `${words[0]!.toUpperCase()}${words.slice(1)}`;
}
