// The settings form's one setting: the download speed limit (the bandwidth
// cap of every sync, a sync in flight included). A select of a few round
// rates, in the units the panel shows speeds in (SI: 1 MB/s = 1 000 000 B/s),
// plus "No limit"; a cap set some other way (the host's limitRate option)
// shows as one more choice, so the select never claims a value that is not
// in effect.
import { html, type TemplateResult } from 'lit';
import { live } from 'lit/directives/live.js';
import type { L10n } from './format.js';

const MB = 1_000_000;

/** The choices offered, in bytes per second. */
export const LIMIT_RATE_PRESETS: readonly number[] = [1, 2, 5, 10, 20, 50, 100].map((n) => n * MB);

const NONE = 'none';

/** "5 MB/s" for a preset, the panel's usual rate for anything else ("3.15 MB/s"); "No limit" for null. */
export function limitRateWords(bytesPerSecond: number | null, t: L10n): string {
  return bytesPerSecond === null ? t.words.limit.none : t.format.roundRate(bytesPerSecond);
}

/** What the live region says once a change is in effect. */
export function limitRateAnnouncement(bytesPerSecond: number | null, t: L10n): string {
  return bytesPerSecond === null
    ? t.words.limit.removed
    : t.words.limit.set(limitRateWords(bytesPerSecond, t));
}

/**
 * The labelled select. It applies on change (a setting, not a navigation):
 * `onChange` gets bytes per second, or null for no limit. Each option's
 * selectedness is bound with live(), so a change the main side refused snaps
 * back to the value in effect even though the user's pick moved it.
 */
export function limitRateSetting(
  current: number | null,
  onChange: (bytesPerSecond: number | null) => void,
  t: L10n,
): TemplateResult {
  const choices: Array<number | null> = [null, ...LIMIT_RATE_PRESETS];
  if (current !== null && !LIMIT_RATE_PRESETS.includes(current)) {
    choices.push(current);
    choices.sort((a, b) => (a ?? 0) - (b ?? 0));
  }
  return html`<div class="setting" part="setting">
    <label for="limit-rate">${t.words.limit.label}</label>
    <select
      id="limit-rate"
      part="select"
      data-setting="limit-rate"
      aria-describedby="limit-rate-hint"
      @change=${(event: Event) => {
        const value = (event.target as HTMLSelectElement).value;
        onChange(value === NONE ? null : Number(value));
      }}
    >
      ${choices.map(
        (choice) =>
          html`<option value=${choice === null ? NONE : String(choice)} .selected=${live(choice === current)}>${limitRateWords(choice, t)}</option>`,
      )}
    </select>
    <p class="muted hint" id="limit-rate-hint">${t.words.limit.hint}</p>
  </div>`;
}
