// The settings form's choices that outlive the app (kept by the main side's
// settings file): "Download updates automatically", and where the cache lives
// with "Move cache to…". The folder is chosen in the main process's own
// picker; the page only asks for the move.
import { html, nothing, type TemplateResult } from 'lit';
import { live } from 'lit/directives/live.js';
import type { Settings } from '../../contract/status.js';
import type { L10n } from './format.js';

/** A checkbox that applies on change; live() snaps it back when the main side refused the change. */
export function autoUpdateSetting(
  settings: Settings,
  onChange: (enabled: boolean) => void,
  t: L10n,
): TemplateResult {
  const w = t.words.autoUpdate;
  return html`<div class="setting" part="setting">
    <input
      type="checkbox"
      id="auto-update"
      part="checkbox"
      data-setting="auto-update"
      aria-describedby="auto-update-hint"
      .checked=${live(settings.autoUpdate)}
      @change=${(event: Event) => onChange((event.target as HTMLInputElement).checked)}
    />
    <label for="auto-update">${w.label}</label>
    <p class="muted hint" id="auto-update-hint">${w.hint}</p>
  </div>`;
}

/**
 * Where the cache is, and the button that moves it (when the host has a
 * folder picker). `moveButton` is the form's button, so it is keyed, inert
 * while busy and styled like the others.
 */
export function locationSetting(
  root: string,
  settings: Settings,
  moveButton: unknown,
  moving: boolean,
  t: L10n,
): TemplateResult {
  const w = t.words.location;
  return html`<div class="setting" part="setting" role="group" aria-labelledby="location-label">
    <span class="label" id="location-label">${w.label}</span>
    <span class="path" data-field="root" dir="ltr">${root}</span>
    ${settings.canMoveCache ? moveButton : nothing}
    ${
      settings.canMoveCache
        ? html`<p class="muted hint" data-role="moving">${moving ? w.moving : w.hint}</p>`
        : nothing
    }
  </div>`;
}
