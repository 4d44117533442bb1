// <vm-cache-panel>: the first-run download screen and the settings section,
// driven only by the VmCacheApi (window.vmCache by default). It keeps no state
// of its own beyond what it last heard: progress events and getStatus answers.
// It speaks the page's language (lang, see locale.ts) in the words of
// words.ts, and follows the page's direction (dir) through logical CSS.
import { html, LitElement, type PropertyValues, type TemplateResult } from 'lit';
import type { Failure, Result, VmCacheApi } from '../../contract/api.js';
import type { ErrorInfo } from '../../contract/errors.js';
import type { SyncProgress } from '../../contract/progress.js';
import type { CacheStatus, Settings, SyncResult, VerifyReport } from '../../contract/status.js';
import { localeOf } from './element-locale.js';
import { errorWords } from './error-states.js';
import { type L10n, l10n } from './format.js';
import { type Action, firstRunForm, type PanelActions, type PanelView, settingsForm } from './forms.js';
import { limitRateAnnouncement } from './limit-rate-view.js';
import { mergeWords, type PanelWordsOverride, wordsFor } from './locale.js';
import { artifactName, isRunning, phaseWords, stateOf } from './phrases.js';
import { verifySummary } from './settings-view.js';
import { panelStyles } from './styles.js';
import { windowApi } from './window.js';

export type PanelMode = 'first-run' | 'settings';
/** A colour scheme the host imposes; without one the panel follows prefers-color-scheme. */
export type PanelTheme = 'light' | 'dark';

/** A line the settings form shows after an action, worded when it is drawn (so a change of language reaches it). */
type Notice = (t: L10n) => string;

const NO_API: ErrorInfo = {
  code: 'ERR_INTERNAL',
  message:
    'window.vmCache is not defined: load this page through the app’s preload, or set the api property.',
};

export class VmCachePanel extends LitElement {
  static override styles = panelStyles;
  static override properties = {
    mode: { type: String, reflect: true },
    api: { attribute: false },
    words: { attribute: false },
    theme: { type: String, reflect: true },
    _status: { state: true },
    _progress: { state: true },
    _problem: { state: true },
    _busy: { state: true },
    _verify: { state: true },
    _confirmClear: { state: true },
    _notice: { state: true },
    _announcement: { state: true },
    _limitRate: { state: true },
    _settings: { state: true },
    _notMovedFrom: { state: true },
  };

  /** 'first-run' (full size, Continue when done) or 'settings' (compact, maintenance actions). */
  declare mode: PanelMode;
  /** Defaults to window.vmCache, read when the panel connects. */
  declare api: VmCacheApi | undefined;
  /** Words laid over the table of the page's language; replace the object to change them. */
  declare words: PanelWordsOverride | undefined;
  /** 'light' or 'dark' whatever the system prefers; unset: prefers-color-scheme decides. */
  declare theme: PanelTheme | undefined;
  declare private _status: CacheStatus | null;
  declare private _progress: SyncProgress | null;
  /** The last failed call; progress errors are read from _progress. */
  declare private _problem: ErrorInfo | null;
  declare private _busy: ReadonlySet<Action>;
  declare private _verify: VerifyReport | null;
  declare private _confirmClear: boolean;
  declare private _notice: Notice | null;
  declare private _announcement: string;
  /** The download speed limit (bytes per second, null: none); undefined until the settings form has read it. */
  declare private _limitRate: number | null | undefined;
  /** "Download updates automatically" and whether the cache can move; undefined until the settings form has read them. */
  declare private _settings: Settings | undefined;
  /** Where the cache stayed when the last failed call was a move (its words say so); null otherwise. */
  declare private _notMovedFrom: string | null;

  #attachedTo: VmCacheApi | undefined;
  #unsubscribe: (() => void) | undefined;
  /** Bumped on every attach, so answers for a previous api are dropped. */
  #generation = 0;
  #focusAfterUpdate: string | null = null;
  #focusWasInside = false;
  /** The attachment whose limit has been asked for (settings only). */
  #limitReadFor = -1;
  /** Bumped on every read or change of the limit: only the newest answer is shown. */
  #limitTurn = 0;
  /** The sync (its startedAt) this panel asked to pause: its answer, ERR_ABORTED, is a pause, not a cancel. */
  #pauseAskedFor: number | undefined;
  /** After Resume: focus goes to Pause when it shows (Resume -> Cancel -> Pause), so Enter twice never cancels. */
  #focusPauseWhenShown = false;
  /** The error a refused change left in _problem, which a later change that works takes away. */
  #limitFailure: ErrorInfo | null = null;
  /** The words and formats last built, and what they were built for. */
  #l10n: { locale: string; words: PanelWordsOverride | undefined; t: L10n } | undefined;
  /** A lang set or changed on an ancestor redraws the panel in that language. */
  #langObserver: MutationObserver | undefined;

  constructor() {
    super();
    // Assigned here, not as field initialisers: class fields would shadow Lit's accessors.
    this.mode = 'first-run';
    this.api = undefined;
    this.words = undefined;
    this.theme = undefined;
    this._status = null;
    this._progress = null;
    this._problem = null;
    this._busy = new Set();
    this._verify = null;
    this._confirmClear = false;
    this._notice = null;
    this._announcement = '';
    this._limitRate = undefined;
    this._settings = undefined;
    this._notMovedFrom = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // The page's elements, and this one itself (which a document-wide watch misses inside a shadow root).
    this.#langObserver = new MutationObserver(() => this.requestUpdate());
    const watch = { attributes: true, attributeFilter: ['lang'] };
    this.#langObserver.observe(this.ownerDocument.documentElement, { ...watch, subtree: true });
    this.#langObserver.observe(this, watch);
    this.#attach();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#langObserver?.disconnect();
    this.#langObserver = undefined;
    this.#detach();
  }

  /** The words and number formats for the page's locale now, with the host's words on top. */
  #speech(): L10n {
    const locale = localeOf(this);
    const built = this.#l10n;
    if (built && built.locale === locale && built.words === this.words) return built.t;
    const t = l10n(locale, mergeWords(wordsFor(locale), this.words));
    this.#l10n = { locale, words: this.words, t };
    return t;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('api') && this.isConnected && this.#resolveApi() !== this.#attachedTo) {
      this.#detach();
      this.#attach();
    }
    // The settings form shows the limit: read it once per attachment, whenever the mode becomes settings.
    if (this.mode === 'settings' && this.#attachedTo && this.#limitReadFor !== this.#generation) {
      this.#limitReadFor = this.#generation;
      void this.#refreshLimit();
      void this.#refreshSettings();
    }
    this.#focusWasInside = this.shadowRoot?.activeElement != null;
  }

  protected override updated(): void {
    const root = this.shadowRoot;
    if (!root) return;
    if (this.#focusPauseWhenShown) this.#followToPause(root);
    if (this.#focusAfterUpdate) {
      root.querySelector<HTMLElement>(this.#focusAfterUpdate)?.focus();
      this.#focusAfterUpdate = null;
    } else if (this.#focusWasInside && root.activeElement == null) {
      // The focused button was replaced (Cancel -> Retry, Download -> Continue):
      // keep keyboard users in the panel instead of dropping them to <body>.
      (root.querySelector<HTMLElement>('.actions button') ?? root.querySelector<HTMLElement>('h2'))?.focus();
    }
  }

  /** Moves focus from Cancel (where it fell when Resume went) to Pause once the download shows it. */
  #followToPause(root: ShadowRoot): void {
    const pause = root.querySelector<HTMLElement>('button[data-action="pause"]');
    const p = this._progress;
    if (pause) {
      if (root.activeElement?.matches('button[data-action="cancel"]')) pause.focus();
      this.#focusPauseWhenShown = false;
    } else if (!p || !isRunning(p.phase)) {
      this.#focusPauseWhenShown = false;
    }
  }

  #resolveApi(): VmCacheApi | undefined {
    return this.api ?? windowApi();
  }

  #attach(): void {
    const api = this.#resolveApi();
    this.#attachedTo = api;
    const generation = ++this.#generation;
    // Calls of a previous attachment will never report back: forget them.
    this._busy = new Set();
    this._limitRate = undefined;
    this._settings = undefined;
    if (!api) {
      this._problem = NO_API;
      return;
    }
    this._problem = null;
    this.#unsubscribe = api.onProgress((p) => {
      if (generation === this.#generation) this.#onProgress(p);
    });
    void this.#refreshStatus();
  }

  #detach(): void {
    this.#generation += 1;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#attachedTo = undefined;
  }

  #onProgress(p: SyncProgress): void {
    const prev = this._progress;
    // Out-of-order delivery of the same sync: keep the newer state.
    if (prev && prev.startedAt === p.startedAt && p.at < prev.at) return;
    this._progress = p;
    const started = isRunning(p.phase) && (!prev || !isRunning(prev.phase));
    if (started) {
      this._problem = null;
      this._notice = null;
    }
    const t = this.#speech();
    // A pause ends as `cancelled` too; `paused` is a state of its own, with its own words.
    if (!prev || stateOf(prev) !== stateOf(p)) {
      this.#announce(
        p.phase === 'failed' && p.error
          ? `${t.words.phases.failed} ${errorWords(p.error, this._status, t).text}`
          : phaseWords(p, t),
      );
      if (!isRunning(p.phase)) void this.#refreshStatus();
    } else {
      for (const a of p.artifacts) {
        const before = prev.artifacts.find((b) => b.key === a.key);
        if (a.state === 'verified' && before?.state !== 'verified') {
          this.#announce(t.words.notices.imageVerified(artifactName(a, t)));
        }
      }
    }
  }

  /** Runs one api call with its busy flag; a failure's words go to _problem. */
  async #call<T>(action: Action, run: (api: VmCacheApi) => Promise<Result<T>>): Promise<Result<T> | null> {
    const api = this.#attachedTo;
    if (!api) {
      this._problem = NO_API;
      return null;
    }
    const generation = this.#generation;
    this._busy = new Set([...this._busy, action]);
    let result: Result<T>;
    try {
      result = await run(api);
    } catch (err) {
      // A bridge that throws instead of answering { ok: false } is still shown in words.
      result = { ok: false, code: 'ERR_INTERNAL', message: err instanceof Error ? err.message : String(err) };
    }
    if (generation !== this.#generation) return null;
    const busy = new Set(this._busy);
    busy.delete(action);
    this._busy = busy;
    if (!result.ok) {
      this._problem = errorInfo(result);
      // A refused move's words belong to its own failure, not to this one.
      this._notMovedFrom = null;
      if (action !== 'sync') this.#announce(errorWords(this._problem, this._status, this.#speech()).text);
    }
    return result;
  }

  async #refreshStatus(): Promise<void> {
    const r = await this.#call('status', (api) => api.getStatus());
    if (!r?.ok) return;
    this._status = r.value;
    const p = r.value.progress;
    if (p && (!this._progress || this._progress.startedAt !== p.startedAt || p.at >= this._progress.at)) {
      this.#onProgress(p);
    }
  }

  async #refreshLimit(): Promise<void> {
    const turn = ++this.#limitTurn;
    const r = await this.#call('limit', (api) => api.getLimitRate());
    if (r?.ok && turn === this.#limitTurn) this._limitRate = r.value.bytesPerSecond;
  }

  /** Shown at once; the answer (the cap now in effect) settles it, and a refusal puts back the one before. */
  async #setLimit(bytesPerSecond: number | null): Promise<void> {
    const turn = ++this.#limitTurn;
    const before = this._limitRate;
    this._limitRate = bytesPerSecond;
    const r = await this.#call('limit', (api) => api.setLimitRate(bytesPerSecond));
    if (!r || turn !== this.#limitTurn) return;
    if (r.ok) {
      if (this._problem !== null && this._problem === this.#limitFailure) this._problem = null;
      this._limitRate = r.value.bytesPerSecond;
      this.#announce(limitRateAnnouncement(r.value.bytesPerSecond, this.#speech()));
    } else {
      this.#limitFailure = this._problem;
      this._limitRate = before;
      // And ask: the cap may have changed meanwhile (another window, the host).
      await this.#refreshLimit();
    }
  }

  async #refreshSettings(): Promise<void> {
    const r = await this.#call('settings', (api) => api.getSettings());
    if (r?.ok) this._settings = r.value;
  }

  /** Shown at once; the answer settles it, and a refusal puts the one before back. */
  async #setAutoUpdate(enabled: boolean): Promise<void> {
    const before = this._settings;
    if (before) this._settings = { ...before, autoUpdate: enabled };
    const r = await this.#call('settings', (api) => api.setAutoUpdate(enabled));
    if (!r) return;
    if (r.ok) {
      this._settings = r.value;
      const w = this.#speech().words.autoUpdate;
      this.#announce(r.value.autoUpdate ? w.on : w.off);
    } else {
      this._settings = before;
    }
  }

  /** The main side shows its folder picker and moves the cache; the status then reads the new place. */
  async #moveCache(): Promise<void> {
    this._problem = null;
    this._notice = null;
    this._verify = null;
    this._confirmClear = false;
    this.#announce(this.#speech().words.location.moving);
    const from = this._status?.root ?? '';
    const r = await this.#call('move', (api) => api.moveCache());
    this.#focusAfterUpdate = 'button[data-action="move"]';
    if (r && !r.ok && r.code === 'ERR_ABORTED') {
      // The user's Cancel: not a failure, and the cache is where it was.
      this._problem = null;
      this.#notify((t) => t.words.location.cancelled(from));
      return;
    }
    if (!r) return;
    if (!r.ok) {
      this._notMovedFrom = from;
      this.#announce(this.#speech().words.location.notMoved(from));
      return;
    }
    if (r.value.moved) {
      const { root, movedBytes } = r.value;
      this.#notify((t) => t.words.location.moved(root, t.format.bytes(movedBytes)));
    } else {
      this.#announce('');
    }
    await this.#refreshStatus();
  }

  /** A sync: Download, Retry, Check for updates, or Resume (`resume`: from the bytes a pause kept). */
  async #sync(resume = false): Promise<void> {
    this._problem = null;
    this.#pauseAskedFor = undefined;
    this._verify = null;
    this._notice = null;
    this._confirmClear = false;
    const before = this._progress;
    if (before && !isRunning(before.phase)) {
      // Immediate feedback; the sync's own events replace this within 100 ms.
      this._progress = {
        ...before,
        phase: 'checking',
        error: undefined,
        paused: undefined,
        etaSeconds: null,
        bytesPerSecond: 0,
      };
    }
    const r = await this.#call<SyncResult>('sync', (api) => (resume ? api.resume() : api.sync()));
    if (!r) return;
    const p = this._progress;
    // Aborted by this panel's Pause: a pause, not a cancel (no "cancelled" note). Its
    // paused state, with the bytes the pause kept, comes with the status read below.
    const paused = !r.ok && r.code === 'ERR_ABORTED' && p !== null && this.#pauseAskedFor === p.startedAt;
    if (paused) this._problem = null;
    else if (p && isRunning(p.phase)) {
      // The result can overtake the last (throttled) progress event: settle the phase now.
      const phase = r.ok ? 'done' : r.code === 'ERR_ABORTED' ? 'cancelled' : 'failed';
      const error = r.ok ? undefined : errorInfo(r);
      this.#onProgress({ ...p, phase, error, at: p.at });
    }
    if (r.ok && this.mode === 'settings') {
      const n = r.value.downloaded.length;
      this.#notify((t) =>
        n === 0 ? t.words.notices.upToDate : t.words.notices.downloaded(n, t.format.count(n)),
      );
    }
    await this.#refreshStatus();
  }

  /**
   * Pauses the download: the sync ends as paused (its progress says so, to
   * every window), and Resume goes on from the bytes it kept.
   */
  async #pause(): Promise<void> {
    this.#pauseAskedFor = this._progress?.startedAt;
    const r = await this.#call('pause', (api) => api.pause());
    if (!r?.ok) return;
    // The paused state (or, when the sync ended first, its real end), also if its last event is still on its way.
    await this.#refreshStatus();
  }

  #resume(): void {
    this.#focusPauseWhenShown = this.shadowRoot?.activeElement != null;
    void this.#sync(true);
  }

  async #cancel(): Promise<void> {
    const r = await this.#call('cancel', (api) => api.cancel());
    if (r?.ok && !r.value.cancelled) this.#announce(this.#speech().words.notices.nothingToCancel);
  }

  async #verifyNow(): Promise<void> {
    this._verify = null;
    this._notice = null;
    this._problem = null;
    this._confirmClear = false;
    const r = await this.#call('verify', (api) => api.verify());
    if (!r?.ok) return;
    this._verify = r.value;
    this.#announce(verifySummary(r.value, this.#speech()));
    await this.#refreshStatus();
  }

  #askClear(): void {
    this._confirmClear = true;
    this._notice = null;
    this.#focusAfterUpdate = 'button[data-action="cancel-clear"]';
  }

  #cancelClear(): void {
    this._confirmClear = false;
    this.#focusAfterUpdate = 'button[data-action="clear"]';
  }

  async #clearNow(): Promise<void> {
    this._problem = null;
    const r = await this.#call('clear', (api) => api.clear());
    this._confirmClear = false;
    this.#focusAfterUpdate = 'button[data-action="clear"]';
    if (!r?.ok) return;
    this._verify = null;
    this._progress = null;
    const freed = r.value.removedBytes;
    this.#notify((t) => t.words.notices.cleared(t.format.bytes(freed)));
    await this.#refreshStatus();
  }

  #continue(): void {
    this.dispatchEvent(new CustomEvent('vm-cache-continue', { bubbles: true, composed: true }));
  }

  #announce(text: string): void {
    this._announcement = text;
  }

  /** Shows a notice and announces it. */
  #notify(notice: Notice): void {
    this._notice = notice;
    this.#announce(notice(this.#speech()));
  }

  #view(t: L10n): PanelView {
    return {
      status: this._status,
      progress: this._progress,
      problem: this._problem,
      busy: this._busy,
      verify: this._verify,
      confirmClear: this._confirmClear,
      notice: this._notice ? this._notice(t) : '',
      limitRate: this._limitRate,
      settings: this._settings,
      notMovedFrom: this._notMovedFrom,
      t,
    };
  }

  readonly #actions: PanelActions = {
    sync: () => void this.#sync(),
    pause: () => void this.#pause(),
    resume: () => this.#resume(),
    cancel: () => void this.#cancel(),
    verify: () => void this.#verifyNow(),
    askClear: () => this.#askClear(),
    cancelClear: () => this.#cancelClear(),
    clear: () => void this.#clearNow(),
    continue: () => this.#continue(),
    setLimitRate: (bytesPerSecond) => void this.#setLimit(bytesPerSecond),
    setAutoUpdate: (enabled) => void this.#setAutoUpdate(enabled),
    moveCache: () => void this.#moveCache(),
  };

  protected override render(): TemplateResult {
    const settings = this.mode === 'settings';
    const p = this._progress;
    const state = (p && stateOf(p)) ?? (this._status?.cached ? 'ready' : this._status ? 'empty' : 'loading');
    const t = this.#speech();
    const view = this.#view(t);
    // lang: the language of the words shown (English where the page's has no table), for screen readers.
    return html`<section
      class="panel ${settings ? 'compact' : ''}"
      part="panel"
      lang=${t.words.lang}
      aria-labelledby="title"
      data-state=${state}
      data-locale=${t.format.locale}
    >
      <h2 id="title" part="title" tabindex="-1">${settings ? t.words.settingsTitle : t.words.firstRunTitle}</h2>
      ${settings ? settingsForm(view, this.#actions) : firstRunForm(view, this.#actions)}
      <div class="sr-only" role="status" aria-live="polite" aria-atomic="true">${this._announcement}</div>
    </section>`;
  }
}

/** A failed call's error, its figures kept (the panel words them: error-states.ts). */
function errorInfo(failure: Failure): ErrorInfo {
  const { code, message, detail } = failure;
  return detail ? { code, message, detail } : { code, message };
}

/** Defines <vm-cache-panel> once; safe to call from several bundles. */
export function defineVmCachePanel(tag = 'vm-cache-panel'): void {
  if (!customElements.get(tag)) customElements.define(tag, VmCachePanel);
}

declare global {
  interface HTMLElementTagNameMap {
    'vm-cache-panel': VmCachePanel;
  }
}
