// The two forms as pure templates of the panel's state: what the first-run
// screen and the settings section show, and which buttons they offer.
import { html, nothing, type TemplateResult } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import type { ErrorInfo } from '../../contract/errors.js';
import type { SyncProgress } from '../../contract/progress.js';
import type { CacheStatus, Settings, VerifyReport } from '../../contract/status.js';
import {
  type ErrorWords,
  errorStateOf,
  errorWords,
  type RecoveryAction,
  recoveryActions,
  shownError,
} from './error-states.js';
import type { L10n } from './format.js';
import { limitRateSetting } from './limit-rate-view.js';
import { isPaused, isRunning, phaseWords } from './phrases.js';
import { cachedRows, progressSection } from './progress-view.js';
import { statusList, verifyList } from './settings-view.js';
import { autoUpdateSetting, locationSetting } from './user-settings-view.js';

/** What a busy flag is kept for; Resume is a sync (`sync`). */
export type Action =
  | 'sync'
  | 'pause'
  | 'cancel'
  | 'verify'
  | 'clear'
  | 'status'
  | 'limit'
  | 'settings'
  | 'move';

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
  /** Set when `problem` is a refused move: where the cache stayed. */
  notMovedFrom: string | null;
  /** "Download updates automatically" and whether the cache can be moved; undefined until known. */
  settings: Settings | undefined;
  /** The words and number formats in effect. */
  t: L10n;
}

export interface PanelActions {
  sync(): void;
  /** Stops the download in flight, keeping its bytes; resume() goes on from them. */
  pause(): void;
  resume(): void;
  cancel(): void;
  verify(): void;
  askClear(): void;
  /** Closes the clear confirmation without clearing (the button says "Keep"). */
  cancelClear(): void;
  clear(): void;
  continue(): void;
  /** Bytes per second, or null for no limit; applies to a sync in flight too. */
  setLimitRate(bytesPerSecond: number | null): void;
  /** The launch sync on or off, kept across launches. */
  setAutoUpdate(enabled: boolean): void;
  /** The main side asks for a folder and moves the cache there. */
  moveCache(): void;
}

/**
 * An action button. Keyed by action, so Retry is a new element, not Cancel
 * relabelled: the panel moves focus to it and a screen reader says its name.
 * While its call is in flight it stays focusable but inert (aria-disabled).
 * Its parts: `button`, plus its kind (`primary`, `danger`) when it has one.
 */
function button(label: string, action: string, onClick: () => void, kind = '', busy = false): unknown {
  return keyed(
    action,
    html`<button
      type="button"
      class=${kind}
      part=${kind ? `button ${kind}` : 'button'}
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

/** The sentence, its folder isolated left to right (a path reads the same on any page). */
function sentence(said: ErrorWords): unknown {
  const at = said.path ? said.text.indexOf(said.path) : -1;
  if (!said.path || at < 0) return said.text;
  const end = at + said.path.length;
  return html`${said.text.slice(0, at)}<bdi class="path" dir="ltr">${said.path}</bdi>${said.text.slice(end)}`;
}

function errorBox(
  err: ErrorInfo | null,
  status: CacheStatus | null,
  t: L10n,
  words?: ErrorWords,
): TemplateResult | typeof nothing {
  if (!err) return nothing;
  const state = errorStateOf(err.code);
  // A cancel is the user's own doing: said plainly, without the engine's detail.
  const cancelled = state === 'cancelled';
  // The message is the engine's, in English: marked so, for screen readers.
  return html`<div
    class="error ${cancelled ? 'note' : ''}"
    part=${cancelled ? 'error note' : 'error'}
    data-code=${err.code}
    data-error-state=${state}
  >
    <p class="words" part="error-words">${sentence(words ?? errorWords(err, status, t))}</p>
    ${err.message && !cancelled ? html`<p class="message" part="error-message" lang="en">${err.message}</p>` : nothing}
  </div>`;
}

function shownErrorBox(v: PanelView): TemplateResult | typeof nothing {
  // A refused move: the cache did not go anywhere, said first; the engine's message says why.
  if (v.problem && v.notMovedFrom !== null) {
    const from = v.notMovedFrom;
    return errorBox(v.problem, v.status, v.t, { text: v.t.words.location.notMoved(from), path: from });
  }
  return errorBox(shownError(v.problem, v.progress), v.status, v.t);
}

/**
 * After a failed or cancelled sync (or a failed call): the error state's
 * actions, its one primary first (error-states.ts, recoveryActions).
 */
function recoveryButtons(v: PanelView, act: PanelActions, mode: 'first-run' | 'settings'): unknown[] {
  const { busy, t } = v;
  const err = shownError(v.problem, v.progress) ?? { code: 'ERR_ABORTED' as const, message: '' };
  return recoveryActions(err, v.status, mode).map((action: RecoveryAction, i) => {
    const kind = i === 0 ? 'primary' : '';
    if (action === 'continue') return button(t.words.buttons.continue, 'continue', act.continue, kind);
    const label = action === 'check-again' ? t.words.buttons.checkAgain : t.words.buttons.retry;
    return button(label, action, act.sync, kind, busy.has('sync'));
  });
}

function actionRow(actions: unknown[]): TemplateResult {
  return html`<div class="actions" part="actions">${actions}</div>`;
}

/**
 * While a sync runs: Cancel, and Pause beside it once bytes are coming (a
 * pause before them would keep nothing). Cancel comes first whatever the
 * phase, so the focus that falls from Download always lands on the same button.
 */
function runningActions(p: SyncProgress, v: PanelView, act: PanelActions): unknown[] {
  const { busy, t } = v;
  return [
    button(t.words.buttons.cancel, 'cancel', act.cancel, '', busy.has('cancel')),
    ...(p.phase === 'downloading'
      ? [button(t.words.buttons.pause, 'pause', act.pause, '', busy.has('pause'))]
      : []),
  ];
}

function resumeButton(v: PanelView, act: PanelActions): unknown {
  return button(v.t.words.buttons.resume, 'resume', act.resume, 'primary', v.busy.has('sync'));
}

export function firstRunForm(v: PanelView, act: PanelActions): TemplateResult {
  const { progress: p, status: s, busy, t } = v;
  const w = t.words;
  let phase: string;
  let body: TemplateResult | typeof nothing = nothing;
  let actions: unknown[] = [];
  if (p) {
    phase = phaseWords(p, t);
    body = progressSection(p, false, t);
    if (isRunning(p.phase)) actions = runningActions(p, v, act);
    else if (isPaused(p)) actions = [resumeButton(v, act)];
    else if (p.phase === 'done') actions = [button(w.buttons.continue, 'continue', act.continue, 'primary')];
    else actions = recoveryButtons(v, act, 'first-run');
  } else if (s?.cached) {
    phase = w.phases.done;
    body = cachedRows(s.cached.artifacts, t);
    actions = [button(w.buttons.continue, 'continue', act.continue, 'primary')];
  } else if (s || v.problem) {
    phase = v.problem ? w.phases.failed : w.notDownloadedYet;
    actions = v.problem
      ? recoveryButtons(v, act, 'first-run')
      : [button(w.buttons.download, 'download', act.sync, 'primary', busy.has('sync'))];
  } else {
    phase = w.checkingCache;
  }
  return html`
    <p class="phase" part="phase" data-role="phase">${phase}</p>
    ${body} ${shownErrorBox(v)}
    ${actions.length > 0 ? actionRow(actions) : nothing}
  `;
}

/**
 * Check for updates; after a failed or cancelled sync the error state's
 * action (Retry, or Check again for a refused signature); paused, Resume.
 */
function settingsPrimary(v: PanelView, showProgress: boolean, act: PanelActions): unknown[] {
  const { progress: p, busy, t } = v;
  if (p && isPaused(p)) return [resumeButton(v, act)];
  return showProgress
    ? recoveryButtons(v, act, 'settings')
    : [button(t.words.buttons.checkForUpdates, 'sync', act.sync, 'primary', busy.has('sync'))];
}

export function settingsForm(v: PanelView, act: PanelActions): TemplateResult {
  const { progress: p, status: s, busy, t } = v;
  const w = t.words;
  const running = p !== null && isRunning(p.phase);
  // A finished sync's result shows in the status list; a failed or cancelled one stays in view.
  const showProgress = p !== null && p.phase !== 'done';
  const moving = busy.has('move');
  const actions = running
    ? runningActions(p, v, act)
    : [
        // While the cache moves nothing else may touch it: these are inert until it is where it goes.
        ...settingsPrimary(
          moving ? { ...v, busy: new Set<Action>([...busy, 'sync']) } : v,
          showProgress,
          act,
        ),
        button(w.buttons.verify, 'verify', act.verify, '', busy.has('verify') || moving),
        ...(v.confirmClear
          ? []
          : [button(w.buttons.clearCache, 'clear', act.askClear, '', busy.has('clear') || moving)]),
      ];
  return html`
    ${s ? statusList(s, t) : html`<p class="muted">${w.status.reading}</p>`}
    ${v.limitRate === undefined ? nothing : limitRateSetting(v.limitRate, act.setLimitRate, t)}
    ${v.settings === undefined ? nothing : autoUpdateSetting(v.settings, act.setAutoUpdate, t)}
    ${
      v.settings === undefined || !s
        ? nothing
        : locationSetting(
            s.root,
            v.settings,
            // While it moves, Cancel (before the switch the copy goes and the cache stays). Not during
            // a download (the move would have to stop it) nor another maintenance action.
            busy.has('move')
              ? button(w.buttons.cancel, 'cancel-move', act.cancel, '', busy.has('cancel'))
              : button(
                  w.buttons.moveCache,
                  'move',
                  act.moveCache,
                  '',
                  busy.has('sync') || running || busy.has('clear') || busy.has('verify'),
                ),
            busy.has('move'),
            t,
          )
    }
    ${showProgress ? html`<p class="phase" part="phase" data-role="phase">${phaseWords(p, t)}</p>${progressSection(p, true, t)}` : nothing}
    ${v.notice ? html`<p class="phase" part="notice" data-role="notice">${v.notice}</p>` : nothing}
    ${busy.has('verify') ? html`<p class="muted">${w.verify.running}</p>` : nothing}
    ${shownErrorBox(v)} ${v.verify ? verifyList(v.verify, s, t) : nothing}
    ${
      v.confirmClear
        ? html`<div class="confirm" part="confirm" role="group" aria-label=${w.confirmClear.group}>
            <p>${w.confirmClear.question(t.format.bytes(s?.sizeOnDiskBytes ?? 0))}</p>
            ${button(w.buttons.clearCache, 'confirm-clear', act.clear, 'danger', busy.has('clear'))}
            ${button(w.buttons.keep, 'cancel-clear', act.cancelClear)}
          </div>`
        : nothing
    }
    ${actionRow(actions)}
  `;
}
