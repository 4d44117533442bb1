// Errors with the way on in them: disk full says how much space is needed and
// where, a refused signature that nothing changed, and an unreachable server
// whether the app keeps working with the images it has. Each error state
// also decides its one primary action (docs/panel.md, "Error states"). No
// DOM here (Node tests import it); forms.ts draws the box and the buttons.
import type { ErrorCode, ErrorInfo } from '../../contract/errors.js';
import type { SyncProgress } from '../../contract/progress.js';
import type { CachedArtifact, CacheStatus } from '../../contract/status.js';
import type { L10n } from './format.js';
import { artifactName, isPaused } from './phrases.js';

/** The states whose words and actions differ; `cancelled` is the user's own Cancel. */
export type ErrorState = 'cancelled' | 'disk-full' | 'signature' | 'offline' | 'other';

/**
 * "Could not reach the image server": no answer at all (refused, reset,
 * unresolvable: the manifest fetch wraps those), a connection that dropped,
 * or no answer in time. A server that answered, even with an error, is not
 * offline; its refusal keeps its own words (ERR_DOWNLOAD_HTTP, ERR_STALLED).
 */
const OFFLINE_CODES: ReadonlySet<ErrorCode> = new Set(['ERR_MANIFEST_FETCH', 'ERR_NETWORK', 'ERR_TIMEOUT']);

export function errorStateOf(code: ErrorCode): ErrorState {
  if (code === 'ERR_ABORTED') return 'cancelled';
  if (code === 'ERR_DISK_FULL') return 'disk-full';
  if (code === 'ERR_SIGNATURE') return 'signature';
  return OFFLINE_CODES.has(code) ? 'offline' : 'other';
}

/** The images of the complete cache (the ones on disk), or none. */
export function cachedImages(status: CacheStatus | null): CachedArtifact[] {
  return status?.cached?.artifacts.filter((a) => a.present) ?? [];
}

/** The error in view: a failed call's, else the failed or cancelled sync's; null for none (or a pause). */
export function shownError(problem: ErrorInfo | null, p: SyncProgress | null): ErrorInfo | null {
  const err =
    problem ??
    (p && (p.phase === 'failed' || p.phase === 'cancelled')
      ? (p.error ?? { code: 'ERR_ABORTED' as const, message: '' })
      : null);
  // A pause ends the sync as a cancel would: its "cancelled" is not news, the paused line says it all.
  if (err && p && isPaused(p) && err.code === 'ERR_ABORTED') return null;
  return err;
}

/** What the box says: one sentence, and the folder in it to isolate when there is one. */
export interface ErrorWords {
  text: string;
  path?: string;
}

/** "openclaw 2026.4.12 (x64), 3.07 MB": the cached images, by name when few, with their total size. */
function imagesWords(images: CachedArtifact[], t: L10n): string {
  const size = t.format.bytes(images.reduce((sum, a) => sum + a.sizeBytes, 0));
  const names = images.length <= 3 ? t.format.list(images.map((a) => artifactName(a, t))) : '';
  return t.words.errorStates.cachedImages(images.length, t.format.count(images.length), names, size);
}

/** The sentence for `err`: its state's words where it has some (and what they need is known), else its code's. */
export function errorWords(err: ErrorInfo, status: CacheStatus | null, t: L10n): ErrorWords {
  const w = t.words.errorStates;
  const images = cachedImages(status);
  switch (errorStateOf(err.code)) {
    case 'disk-full': {
      const d = err.detail;
      // The figures crossed from main; a page is told only what makes sense as figures.
      if (d?.kind === 'disk-space' && typeof d.path === 'string' && d.path !== '') {
        const f = t.format;
        const missing = Math.max(0, d.neededBytes - d.freeBytes);
        const text = w.diskFull(f.bytes(d.neededBytes), f.bytes(d.freeBytes), f.bytes(missing), d.path);
        return { text, path: d.path };
      }
      break;
    }
    case 'signature':
      if (images.length > 0) return { text: w.signatureCached(imagesWords(images, t)) };
      break;
    case 'offline':
      return { text: images.length > 0 ? w.offlineCached(imagesWords(images, t)) : w.offlineEmpty };
    default:
      break;
  }
  return { text: t.words.errors[err.code] };
}

/** What a button after an error does: a sync (labelled Retry, or Check again for a refused manifest), or Continue. */
export type RecoveryAction = 'retry' | 'check-again' | 'continue';

/**
 * The actions an error state offers, its one primary first. A refused
 * signature is not a passing fault, so its sync is "Check again". On the
 * first-run screen, cached images mean the app can go on: Continue leads
 * where a sync cannot help now (a refused signature, no connection) and
 * follows Retry otherwise (disk full and the rest, where Retry is the way on).
 */
export function recoveryActions(
  err: ErrorInfo,
  status: CacheStatus | null,
  mode: 'first-run' | 'settings',
): RecoveryAction[] {
  const state = errorStateOf(err.code);
  const again: RecoveryAction = state === 'signature' ? 'check-again' : 'retry';
  if (mode === 'settings' || cachedImages(status).length === 0) return [again];
  return state === 'signature' || state === 'offline' ? ['continue', again] : [again, 'continue'];
}
