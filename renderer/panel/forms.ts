// The two forms as pure templates of the panel's state: what the first-run
// screen and the settings section show, and which buttons they offer.
import { html, nothing, type TemplateResult } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import { ERROR_WORDS } from '../../contract/codes.js';
import type { ErrorInfo } from '../../contract/errors.js';
import type { SyncProgress } from '../../contract/progress.js';
import type { CacheStatus, VerifyReport } from '../../contract/status.js';
import { formatBytes } from './format.js';
import { limitRateSetting } from './limit-rate-view.js';
import { cachedRows, progressSection } from './progress-view.js';
import { statusList, verifyList } from './settings-view.js';
import { isRunning, PHASE_WORDS } from './words.js';

export type Action = 'sync' | 'cancel' | 'verify' | 'clear' | 'status' | 'limit';

/** What the panel last heard, plus what it is doing. */
export interface PanelView {
  status: CacheStatus | null;
  progress: SyncProgress | null;
  /** The last failed call; progress errors are read from `progress`. */
  problem: ErrorInfo | null;
  busy: ReadonlySet<Action>;
  verify: VerifyReport | null;
  confirmClear: boolean;
  notice: string;
  /** The download speed limit in bytes per second, null for none; undefined until it is known. */
  limitRate: number | null | undefined;
}

export interface PanelActions {
  sync(): void;
  cancel(): void;
  verify(): void;
  askClear(): void;
  /** Closes the clear confirmation without clearing (the button says "Keep"). */
  cancelClear(): void;
  clear(): void;
  continue(): void;
  /** Bytes per second, or null for no limit; applies to a sync in flight too. */
  setLimitRate(bytesPerSecond: number | null): void;
}

/**
 * An action button. Keyed by action, so Retry is a new element, not Cancel
 * relabelled: the panel moves focus to it and a screen reader says its name.
 * While its call is in flight it stays focusable but inert (aria-disabled).
 */
function button(label: string, action: string, onClick: () => void, kind = '', busy = false): unknown {
  return keyed(
    action,
    html`<button
      type="button"
      class=${kind}
      data-action=${action}
      aria-disabled=${busy ? 'true' : 'false'}
      @click=${(event: MouseEvent) => {
        // The second click of a double-click may land on whatever replaced the
        // first one's button (Download -> Cancel): never act on it.
        if (busy || event.detail > 1) return;
        onClick();
      }}
    >
      ${label}
    </button>`,
  );
}

function errorBox(v: PanelView): TemplateResult | typeof nothing {
  const p = v.progress;
  const err =
    v.problem ??
    (p && (p.phase === 'failed' || p.phase === 'cancelled')
      ? (p.error ?? { code: 'ERR_ABORTED' as const, message: '' })
      : null);
  if (!err) return nothing;
  // A cancel is the user's own doing: said plainly, without the engine's detail.
  const cancelled = err.code === 'ERR_ABORTED';
  return html`<div class="error ${cancelled ? 'note' : ''}" data-code=${err.code}>
    <p class="words">${ERROR_WORDS[err.code]}</p>
    ${err.message && !cancelled ? html`<p class="message">${err.message}</p>` : nothing}
  </div>`;
}

export function firstRunForm(v: PanelView, act: PanelActions): TemplateResult {
  const { progress: p, status: s, busy } = v;
  let phase: string;
  let body: TemplateResult | typeof nothing = nothing;
  let actions: unknown[] = [];
  if (p) {
    phase = PHASE_WORDS[p.phase];
    body = progressSection(p, false);
    if (isRunning(p.phase)) actions = [button('Cancel', 'cancel', act.cancel, '', busy.has('cancel'))];
    else if (p.phase === 'done') actions = [button('Continue', 'continue', act.continue, 'primary')];
    else actions = [button('Retry', 'retry', act.sync, 'primary', busy.has('sync'))];
  } else if (s?.cached) {
    phase = PHASE_WORDS.done;
    body = cachedRows(s.cached.artifacts);
    actions = [button('Continue', 'continue', act.continue, 'primary')];
  } else if (s || v.problem) {
    phase = v.problem ? PHASE_WORDS.failed : 'The VM images have not been downloaded yet.';
    const label = v.problem ? 'Retry' : 'Download';
    actions = [button(label, label.toLowerCase(), act.sync, 'primary', busy.has('sync'))];
  } else {
    phase = 'Checking the VM image cache…';
  }
  return html`
    <p class="phase" data-role="phase">${phase}</p>
    ${body} ${errorBox(v)}
    ${actions.length > 0 ? html`<div class="actions">${actions}</div>` : nothing}
  `;
}

export function settingsForm(v: PanelView, act: PanelActions): TemplateResult {
  const { progress: p, status: s, busy } = v;
  const running = p !== null && isRunning(p.phase);
  // A finished sync's result shows in the status list; a failed or cancelled one stays in view.
  const showProgress = p !== null && p.phase !== 'done';
  const actions = running
    ? [button('Cancel', 'cancel', act.cancel, '', busy.has('cancel'))]
    : [
        // After a failed or cancelled sync the words say "Retry", so the button does too.
        showProgress
          ? button('Retry', 'retry', act.sync, 'primary', busy.has('sync'))
          : button('Check for updates', 'sync', act.sync, 'primary', busy.has('sync')),
        button('Verify', 'verify', act.verify, '', busy.has('verify')),
        ...(v.confirmClear ? [] : [button('Clear cache', 'clear', act.askClear, '', busy.has('clear'))]),
      ];
  return html`
    ${s ? statusList(s) : html`<p class="muted">Reading the cache…</p>`}
    ${v.limitRate === undefined ? nothing : limitRateSetting(v.limitRate, act.setLimitRate)}
    ${showProgress ? html`<p class="phase" data-role="phase">${PHASE_WORDS[p.phase]}</p>${progressSection(p, true)}` : nothing}
    ${v.notice ? html`<p class="phase" data-role="notice">${v.notice}</p>` : nothing}
    ${busy.has('verify') ? html`<p class="muted">Verifying sha256 of every cached image…</p>` : nothing}
    ${errorBox(v)} ${v.verify ? verifyList(v.verify, s) : nothing}
    ${
      v.confirmClear
        ? html`<div class="confirm" role="group" aria-label="Confirm clearing the cache">
            <p>Clear ${formatBytes(s?.sizeOnDiskBytes ?? 0)}?</p>
            ${button('Clear cache', 'confirm-clear', act.clear, 'danger', busy.has('clear'))}
            ${button('Keep', 'cancel-clear', act.cancelClear)}
          </div>`
        : nothing
    }
    <div class="actions">${actions}</div>
  `;
}
