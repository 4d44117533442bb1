// The panel's styles, adopted into its shadow root. Colours, radius and fonts
// are custom properties a host sets from outside, and the main pieces are
// ::part()s (docs/panel.md lists both). Light and dark come from one set of
// light-dark() defaults, so the scheme is whatever color-scheme the host has:
// the system's preference unless the host sets `theme`, `color-scheme` on the
// element, or --vm-cache-color-scheme. Only logical properties (inline-start,
// not left), so a right-to-left page mirrors the panel; sizes are in rem/em
// and every row wraps, so 200 % zoom never overflows. Forced colours (Windows
// high contrast) get system colours and borders where a colour alone spoke.
import { css } from 'lit';

export const panelStyles = css`
  :host {
    --_fg: var(--vm-cache-fg, light-dark(#1f2328, #e6edf3));
    --_muted: var(--vm-cache-muted, light-dark(#4f5862, #a4adb8));
    --_bg: var(--vm-cache-bg, light-dark(#ffffff, #0d1117));
    --_surface: var(--vm-cache-surface, light-dark(#f6f8fa, #161b22));
    --_border: var(--vm-cache-border, light-dark(#d0d7de, #3d444d));
    --_accent: var(--vm-cache-accent, light-dark(#0a5dc2, #4493f8));
    --_accent-fg: var(--vm-cache-accent-fg, light-dark(#ffffff, #0d1117));
    --_track: var(--vm-cache-track, light-dark(#dfe3e8, #30363d));
    --_ok: var(--vm-cache-ok, light-dark(#1a7f37, #3fb950));
    --_danger: var(--vm-cache-danger, light-dark(#b42318, #ff8e87));
    --_danger-bg: var(--vm-cache-danger-bg, light-dark(#fff1f0, #2d1416));
    --_focus: var(--vm-cache-focus, light-dark(#0a5dc2, #4493f8));
    --_radius: var(--vm-cache-radius, 0.5rem);
    --_mono: var(--vm-cache-font-mono, ui-monospace, SFMono-Regular, Menlo, Consolas, monospace);

    color-scheme: var(--vm-cache-color-scheme, light dark);
    display: block;
    color: var(--_fg);
    background: var(--_bg);
    font: var(--vm-cache-font, inherit);
    line-height: 1.45;
    container-type: inline-size;
  }
  :host([theme='light']) {
    color-scheme: light;
  }
  :host([theme='dark']) {
    color-scheme: dark;
  }
  :host([hidden]) {
    display: none;
  }
  /*
   * Every piece of text takes its direction from its own first letter, so
   * English words on a right-to-left page (no table for its language) still
   * read "1.66 MB of 5.13 MB.", and Arabic or Hebrew words from the host read
   * right to left; the boxes themselves follow the page's dir. Aligned to
   * the page's start side, whatever the text's own direction.
   */
  :is(h2, p, span, bdi, dt, dd, label, button, option) {
    unicode-bidi: plaintext;
  }
  .panel:dir(rtl) {
    text-align: right;
  }
  * {
    box-sizing: border-box;
  }

  .panel {
    display: grid;
    gap: 1rem;
    padding: 1.25rem;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    max-width: 48rem;
  }
  .panel.compact {
    gap: 0.75rem;
    padding: 1rem;
  }
  h2 {
    margin: 0;
    font-size: 1.25em;
    line-height: 1.3;
  }
  h2:focus {
    outline: none;
  }
  h2:focus-visible {
    outline: 3px solid var(--_focus);
    outline-offset: 2px;
  }
  .compact h2 {
    font-size: 1.1em;
  }
  p {
    margin: 0;
  }
  .phase {
    font-weight: 600;
  }
  .muted,
  .stats {
    color: var(--_muted);
  }
  .stats {
    display: flex;
    flex-wrap: wrap;
    gap: 0.25rem 1.25rem;
    font-variant-numeric: tabular-nums;
  }

  /* Progress bars: a div with role=progressbar; the fill is the only moving part. */
  .bar {
    position: relative;
    height: 0.75rem;
    border-radius: 999px;
    background: var(--_track);
    overflow: hidden;
  }
  .bar.small {
    height: 0.5rem;
  }
  .fill {
    height: 100%;
    width: 0;
    border-radius: inherit;
    background: var(--_accent);
  }
  .fill.ok {
    background: var(--_ok);
  }
  .fill.failed {
    background: var(--_danger);
  }
  /* Paused: the fill stays where the download stopped, muted and striped, and the stripes stand still. */
  .fill.paused {
    background-color: var(--_muted);
    background-image: repeating-linear-gradient(
      var(--_stripes-angle, 45deg),
      rgb(255 255 255 / 0.3) 0 0.25rem,
      transparent 0.25rem 0.5rem
    );
  }
  .fill.paused:dir(rtl) {
    --_stripes-angle: -45deg;
  }
  @media (prefers-reduced-motion: no-preference) {
    .fill {
      transition: width 0.2s linear;
    }
    .fill.active {
      background-image: linear-gradient(
        var(--_stripes-angle, 45deg),
        rgb(255 255 255 / 0.22) 25%,
        transparent 25%,
        transparent 50%,
        rgb(255 255 255 / 0.22) 50%,
        rgb(255 255 255 / 0.22) 75%,
        transparent 75%
      );
      background-size: 1rem 1rem;
      animation: stripes 1s linear infinite;
    }
    /* Right to left, the bar fills leftwards: the stripes lean and run the other way. */
    .fill.active:dir(rtl) {
      --_stripes-angle: -45deg;
      animation-direction: reverse;
    }
  }
  @keyframes stripes {
    from {
      background-position: 1rem 0;
    }
    to {
      background-position: 0 0;
    }
  }

  .artifacts {
    list-style: none;
    margin: 0;
    padding: 0;
    display: grid;
    gap: 0.75rem;
  }
  .artifact {
    display: grid;
    gap: 0.35rem;
    padding: 0.75rem;
    border-radius: var(--_radius);
    background: var(--_surface);
    /* Invisible, until forced colours draw it (the surface colour alone marks a row). */
    border: 1px solid transparent;
  }
  .compact .artifact {
    padding: 0.5rem 0.75rem;
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    justify-content: space-between;
    gap: 0.25rem 1rem;
  }
  .name {
    font-weight: 600;
    overflow-wrap: anywhere;
  }
  .detail {
    color: var(--_muted);
    font-variant-numeric: tabular-nums;
  }
  .state {
    display: inline-flex;
    align-items: center;
    gap: 0.35em;
  }
  .state.ok {
    color: var(--_ok);
    font-weight: 600;
  }
  .state.failed {
    color: var(--_danger);
    font-weight: 600;
  }
  .sha {
    font-family: var(--_mono);
    font-size: 0.95em;
  }

  .error {
    display: grid;
    gap: 0.25rem;
    padding: 0.75rem 1rem;
    border: 1px solid var(--_danger);
    border-inline-start-width: 0.3rem;
    border-radius: var(--_radius);
    background: var(--_danger-bg);
  }
  /* A cancel is the user's own doing: said plainly, not in alarm colours. */
  .error.note {
    border-color: var(--_border);
    border-inline-start-color: var(--_muted);
    background: var(--_surface);
  }
  .error .words {
    font-weight: 600;
  }
  .error .message {
    font-size: 0.875em;
    color: var(--_muted);
    overflow-wrap: anywhere;
  }
  /* A folder named in the words (disk full): a long path wraps rather than widening the box. */
  .error .words .path {
    overflow-wrap: anywhere;
  }

  dl {
    display: grid;
    grid-template-columns: max-content minmax(0, 1fr);
    gap: 0.35rem 1rem;
    margin: 0;
  }
  @container (max-width: 28rem) {
    dl {
      grid-template-columns: minmax(0, 1fr);
    }
    dd {
      margin-block-end: 0.35rem;
    }
  }
  dt {
    color: var(--_muted);
  }
  dd {
    margin: 0;
    overflow-wrap: anywhere;
  }
  .path {
    font-family: var(--_mono);
    font-size: 0.9em;
    /* A long path with no spaces wraps anywhere rather than overflowing a narrow window. */
    overflow-wrap: anywhere;
    min-inline-size: 0;
  }

  /* A setting: its label, the control, and a line saying what it does; wraps when narrow. */
  .setting {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.35rem 0.75rem;
  }
  .setting label,
  .setting .label {
    font-weight: 600;
  }
  /* The checkbox comes before its label, as platform settings pages put it. */
  .setting input[type='checkbox'] {
    inline-size: 1.15em;
    block-size: 1.15em;
    margin: 0;
    accent-color: var(--_accent);
  }
  .setting input[type='checkbox']:focus-visible {
    outline: 3px solid var(--_focus);
    outline-offset: 2px;
  }
  .setting .hint {
    flex-basis: 100%;
    font-size: 0.875em;
  }
  select {
    font: inherit;
    max-width: 100%;
    min-height: 2.25em;
    padding: 0.3em 0.6em;
    border-radius: var(--_radius);
    border: 1px solid var(--_border);
    background: var(--_surface);
    color: var(--_fg);
  }
  select:focus-visible {
    outline: 3px solid var(--_focus);
    outline-offset: 2px;
  }

  .verify-report {
    display: grid;
    gap: 0.5rem;
  }
  .verify {
    list-style: none;
    margin: 0;
    padding: 0;
    display: grid;
    gap: 0.25rem;
  }
  .verify li {
    display: flex;
    flex-wrap: wrap;
    gap: 0.25rem 0.75rem;
  }
  .verify .key {
    overflow-wrap: anywhere;
  }

  .confirm {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5rem 0.75rem;
    padding: 0.75rem 1rem;
    border-radius: var(--_radius);
    background: var(--_surface);
    border: 1px solid var(--_border);
  }
  .confirm p {
    font-weight: 600;
    margin-inline-end: auto;
  }

  .actions {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
  }
  button {
    font: inherit;
    padding: 0.45em 1.1em;
    border-radius: var(--_radius);
    border: 1px solid var(--_border);
    background: var(--_surface);
    color: var(--_fg);
    cursor: pointer;
    min-height: 2.25em;
  }
  button:hover:not(:disabled) {
    border-color: var(--_muted);
  }
  button.primary {
    background: var(--_accent);
    border-color: var(--_accent);
    color: var(--_accent-fg);
    font-weight: 600;
  }
  button.danger {
    border-color: var(--_danger);
    color: var(--_danger);
    font-weight: 600;
  }
  button:disabled {
    cursor: default;
    opacity: 0.65;
  }
  button:focus-visible {
    outline: 3px solid var(--_focus);
    outline-offset: 2px;
  }

  /*
   * Forced colours repaint text, backgrounds and borders in the system's few
   * colours: a bar's fill would become the Canvas of its track. Bars get a
   * border and a Highlight fill; boxes told apart by a background get a
   * border; the primary button a heavier one.
   */
  @media (forced-colors: active) {
    .panel,
    .artifact,
    .error,
    .error.note,
    .confirm {
      border-color: CanvasText;
    }
    .bar {
      forced-color-adjust: none;
      background: Canvas;
      border: 1px solid CanvasText;
    }
    .fill,
    .fill.ok,
    .fill.failed,
    .fill.paused {
      forced-color-adjust: none;
      background: Highlight;
      background-image: none;
    }
    button.primary {
      border-width: 2px;
    }
    h2:focus-visible,
    select:focus-visible,
    input:focus-visible,
    button:focus-visible {
      outline-color: Highlight;
    }
  }

  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    padding: 0;
    margin: -1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
`;
