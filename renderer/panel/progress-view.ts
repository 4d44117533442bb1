// Templates for a sync in progress: the overall bar with bytes, speed and time
// left, and one row per artifact with its own bar and verification step.
// Names and hashes are isolated (<bdi>, dir="ltr"), so a right-to-left page
// does not reorder "openclaw 2026.4.12 (x64)".
import { html, nothing, type TemplateResult } from 'lit';
import type { ArtifactProgress, SyncPhase, SyncProgress } from '../../contract/progress.js';
import type { CachedArtifact } from '../../contract/status.js';
import { fillWidth } from './fill-width.js';
import { type L10n, shortSha, wholePercent } from './format.js';
import { artifactName, artifactStateWords, deltaWords, isPaused, isRunning } from './phrases.js';

/** `paused`: the bar of a paused sync, kept at its fill in a still, muted look. */
type FillKind = 'active' | 'ok' | 'failed' | 'idle' | 'paused';

/** `part`: the bar's own part names besides `progress` ("overall", "artifact-progress"). */
export function bar(
  t: L10n,
  label: string,
  done: number,
  total: number,
  kind: FillKind,
  part: string,
  small = false,
): TemplateResult {
  const value = wholePercent(done, total);
  const f = t.format;
  return html`<div
    class="bar ${small ? 'small' : ''}"
    part="progress ${part}"
    role="progressbar"
    aria-label=${label}
    aria-valuemin="0"
    aria-valuemax="100"
    aria-valuenow=${value}
    aria-valuetext=${t.words.progressValue(f.percent(value), f.bytes(done), f.bytes(total))}
  >
    <div class="fill ${kind}" part="progress-fill ${kind}" ${fillWidth(value)}></div>
  </div>`;
}

function fillKind(a: Pick<ArtifactProgress, 'state'>, running: boolean, paused: boolean): FillKind {
  if (a.state === 'verified' || a.state === 'cached') return 'ok';
  if (a.state === 'failed') return 'failed';
  if (paused) return 'paused';
  return running && (a.state === 'downloading' || a.state === 'verifying') ? 'active' : 'idle';
}

function overallKind(p: SyncProgress): FillKind {
  if (p.phase === 'done') return 'ok';
  if (p.phase === 'failed') return 'failed';
  if (isRunning(p.phase)) return 'active';
  return isPaused(p) ? 'paused' : 'idle';
}

function stateClass(a: Pick<ArtifactProgress, 'state'>): string {
  if (a.state === 'verified' || a.state === 'cached') return 'ok';
  return a.state === 'failed' ? 'failed' : '';
}

function stateLine(a: ArtifactProgress, phase: SyncPhase, t: L10n): TemplateResult {
  if (a.state === 'verified' || a.state === 'cached') {
    return html`<span class="state ok" part="artifact-state" data-state=${a.state}
      ><span aria-hidden="true">✓</span> ${t.words.artifact.verified}
      <span class="sha" dir="ltr">${shortSha(a.sha256)}</span></span
    >`;
  }
  return html`<span class="state ${stateClass(a)}" part="artifact-state" data-state=${a.state}
    >${artifactStateWords(a, phase, t)}</span
  >`;
}

/** `shownError`: the sync's own error message, already on screen; a row does not repeat it. */
export function artifactRow(
  a: ArtifactProgress,
  phase: SyncPhase,
  compact: boolean,
  t: L10n,
  shownError?: string,
  paused = false,
): TemplateResult {
  const running = isRunning(phase);
  const name = artifactName(a, t);
  const delta = deltaWords(a, t);
  const f = t.format;
  return html`<li class="artifact" part="artifact" data-key=${a.key}>
    <div class="row">
      <bdi class="name" part="artifact-name">${name}</bdi>
      <span class="detail">${f.bytes(a.sizeBytes)}</span>
    </div>
    ${bar(t, t.words.artifactProgress(name), a.receivedBytes, a.sizeBytes, fillKind(a, running, paused), 'artifact-progress', true)}
    <div class="row">
      ${compact ? nothing : html`<span class="detail">${t.words.sizeOf(f.bytes(a.receivedBytes), f.bytes(a.sizeBytes))}</span>`}
      ${stateLine(a, phase, t)}
    </div>
    ${delta ? html`<p class="detail delta">${delta}</p>` : nothing}
    ${a.error && a.error.message !== shownError ? html`<p class="detail" lang="en">${a.error.message}</p>` : nothing}
  </li>`;
}

/** Bytes, and while running speed and time left, under the overall bar. */
function stats(p: SyncProgress, t: L10n): TemplateResult {
  const f = t.format;
  return html`<p class="stats" part="stats">
    <span>${t.words.sizeOf(f.bytes(p.receivedBytes), f.bytes(p.totalBytes))}</span>
    ${
      isRunning(p.phase)
        ? html`<span>${f.rate(p.bytesPerSecond)}</span><span>${
            p.artifacts.some((a) => a.state === 'stalled') ? t.words.stalledRetrying : f.eta(p.etaSeconds)
          }</span>`
        : nothing
    }
  </p>`;
}

export function progressSection(p: SyncProgress, compact: boolean, t: L10n): TemplateResult {
  const paused = isPaused(p);
  // Paused, the line above the bar already says "Paused — 1.2 GB of 3.1 GB": no second copy of the bytes.
  return html`
    ${bar(t, t.words.overallProgress, p.receivedBytes, p.totalBytes, overallKind(p), 'overall')}
    ${paused ? nothing : stats(p, t)}
    ${
      p.artifacts.length > 0
        ? html`<ul class="artifacts" part="artifacts" aria-label=${t.words.imagesList}>
            ${p.artifacts.map((a) => artifactRow(a, p.phase, compact, t, p.error?.message, paused))}
          </ul>`
        : nothing
    }
  `;
}

/** Rows for a complete cache seen through getStatus (no sync in flight). */
export function cachedRows(artifacts: CachedArtifact[], t: L10n): TemplateResult {
  return html`<ul class="artifacts" part="artifacts" aria-label=${t.words.imagesList}>
    ${artifacts.map((c) =>
      artifactRow(
        {
          ...c,
          receivedBytes: c.present ? c.sizeBytes : 0,
          state: c.present ? 'cached' : 'queued',
          attempt: 0,
        },
        'done',
        false,
        t,
      ),
    )}
  </ul>`;
}
