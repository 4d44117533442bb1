// Templates for a sync in progress: the overall bar with bytes, speed and time
// left, and one row per artifact with its own bar and verification step.
import { html, nothing, type TemplateResult } from 'lit';
import type { ArtifactProgress, SyncPhase, SyncProgress } from '../../contract/progress.js';
import type { CachedArtifact } from '../../contract/status.js';
import { fillWidth } from './fill-width.js';
import { formatBytes, formatEta, formatRate, shortSha, wholePercent } from './format.js';
import { artifactName, artifactStateWords, deltaWords, isRunning } from './words.js';

type FillKind = 'active' | 'ok' | 'failed' | 'idle';

export function bar(
  label: string,
  done: number,
  total: number,
  kind: FillKind,
  small = false,
): TemplateResult {
  const value = wholePercent(done, total);
  return html`<div
    class="bar ${small ? 'small' : ''}"
    role="progressbar"
    aria-label=${label}
    aria-valuemin="0"
    aria-valuemax="100"
    aria-valuenow=${value}
    aria-valuetext=${`${value} %, ${formatBytes(done)} of ${formatBytes(total)}`}
  >
    <div class="fill ${kind}" ${fillWidth(value)}></div>
  </div>`;
}

function fillKind(a: Pick<ArtifactProgress, 'state'>, running: boolean): FillKind {
  if (a.state === 'verified' || a.state === 'cached') return 'ok';
  if (a.state === 'failed') return 'failed';
  return running && (a.state === 'downloading' || a.state === 'verifying') ? 'active' : 'idle';
}

function stateClass(a: Pick<ArtifactProgress, 'state'>): string {
  if (a.state === 'verified' || a.state === 'cached') return 'ok';
  return a.state === 'failed' ? 'failed' : '';
}

function stateLine(a: ArtifactProgress, phase: SyncPhase): TemplateResult {
  if (a.state === 'verified' || a.state === 'cached') {
    return html`<span class="state ok" data-state=${a.state}
      ><span aria-hidden="true">✓</span> sha256 verified <span class="sha">${shortSha(a.sha256)}</span></span
    >`;
  }
  return html`<span class="state ${stateClass(a)}" data-state=${a.state}>${artifactStateWords(a, phase)}</span>`;
}

/** `shownError`: the sync's own error message, already on screen; a row does not repeat it. */
export function artifactRow(
  a: ArtifactProgress,
  phase: SyncPhase,
  compact: boolean,
  shownError?: string,
): TemplateResult {
  const running = isRunning(phase);
  const name = artifactName(a);
  const delta = deltaWords(a);
  return html`<li class="artifact" data-key=${a.key}>
    <div class="row">
      <span class="name">${name}</span>
      <span class="detail">${formatBytes(a.sizeBytes)}</span>
    </div>
    ${bar(`${name} download`, a.receivedBytes, a.sizeBytes, fillKind(a, running), true)}
    <div class="row">
      ${compact ? nothing : html`<span class="detail">${formatBytes(a.receivedBytes)} of ${formatBytes(a.sizeBytes)}</span>`}
      ${stateLine(a, phase)}
    </div>
    ${delta ? html`<p class="detail delta">${delta}</p>` : nothing}
    ${a.error && a.error.message !== shownError ? html`<p class="detail">${a.error.message}</p>` : nothing}
  </li>`;
}

export function progressSection(p: SyncProgress, compact: boolean): TemplateResult {
  const running = isRunning(p.phase);
  const overallKind: FillKind =
    p.phase === 'done' ? 'ok' : p.phase === 'failed' ? 'failed' : running ? 'active' : 'idle';
  return html`
    ${bar('Overall download progress', p.receivedBytes, p.totalBytes, overallKind)}
    <p class="stats">
      <span>${formatBytes(p.receivedBytes)} of ${formatBytes(p.totalBytes)}</span>
      ${
        running
          ? html`<span>${formatRate(p.bytesPerSecond)}</span><span>${
              p.artifacts.some((a) => a.state === 'stalled') ? 'stalled, retrying' : formatEta(p.etaSeconds)
            }</span>`
          : nothing
      }
    </p>
    ${
      p.artifacts.length > 0
        ? html`<ul class="artifacts" aria-label="VM images">
            ${p.artifacts.map((a) => artifactRow(a, p.phase, compact, p.error?.message))}
          </ul>`
        : nothing
    }
  `;
}

/** Rows for a complete cache seen through getStatus (no sync in flight). */
export function cachedRows(artifacts: CachedArtifact[]): TemplateResult {
  return html`<ul class="artifacts" aria-label="VM images">
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
      ),
    )}
  </ul>`;
}
