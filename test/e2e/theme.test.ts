// Theming in real Chromium: a host restyles the panel with its custom
// properties and ::part() (read back as computed styles, and a screenshot),
// dark follows prefers-color-scheme unless the host sets a scheme, and forced
// colours (Windows high contrast) leave the bars and boxes visible.
import type { Browser, Locator, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import {
  addHostStyles,
  browserSuite,
  cancelPartWay,
  computed,
  expectCount,
  openPage,
  panelHost,
  preview,
  screenshotPath,
  useBrowser,
  waitForState,
} from './harness.js';

let browser: Browser;

const VIOLET = 'rgb(124, 58, 237)';

/** A host app's stylesheet: its palette, shape and type, and a few parts restyled. */
const HOST_CSS = `
  vm-cache-panel {
    --vm-cache-accent: #7c3aed;
    --vm-cache-accent-fg: #ffffff;
    --vm-cache-fg: #2e1065;
    --vm-cache-muted: #5b4a7a;
    --vm-cache-bg: #ffffff;
    --vm-cache-surface: #f5f3ff;
    --vm-cache-border: #c4b5fd;
    --vm-cache-track: #e4dcfb;
    --vm-cache-focus: #7c3aed;
    --vm-cache-radius: 2px;
    --vm-cache-font: 15px/1.5 Georgia, "DejaVu Serif", serif;
    --vm-cache-font-mono: "DejaVu Sans Mono", monospace;
  }
  vm-cache-panel::part(title) { font-variant-caps: small-caps; letter-spacing: 0.04em; }
  vm-cache-panel::part(progress overall) { height: 1.25rem; }
  vm-cache-panel::part(artifact) { border-inline-start: 4px solid #7c3aed; }
  vm-cache-panel::part(button primary) { text-transform: uppercase; letter-spacing: 0.06em; }
  vm-cache-panel::part(error note) { font-style: italic; }
  vm-cache-panel::part(cache-status) { padding: 0.5rem; border: 1px dashed #c4b5fd; }
`;

function inPanel(page: Page, selector: string): Locator {
  return page.locator(`vm-cache-panel ${selector}`);
}

const SCHEME_PROPS = ['color', 'background-color', 'color-scheme'] as const;

/** The panel's text and background colours and its colour scheme. */
function scheme(page: Page): Promise<Record<(typeof SCHEME_PROPS)[number], string>> {
  return computed(panelHost(page), SCHEME_PROPS);
}

const LIGHT = { color: 'rgb(31, 35, 40)', 'background-color': 'rgb(255, 255, 255)' };
const DARK = { color: 'rgb(230, 237, 243)', 'background-color': 'rgb(13, 17, 23)' };

browserSuite('theming (Chromium)', () => {
  useBrowser((b) => {
    browser = b;
  });

  it('takes a host’s custom properties and ::part() rules, on the first-run screen and in settings', async () => {
    const p = await preview({ throttleBytesPerSec: 1_000_000 });
    const { page, errors } = await openPage(browser, p.firstRunUrl, {
      viewport: { width: 900, height: 640 },
    });
    await addHostStyles(page, HOST_CSS);
    await waitForState(page, ['empty']);
    await cancelPartWay(page, 30);

    expect(
      await computed(inPanel(page, 'section'), ['border-top-left-radius', 'font-family', 'font-size']),
    ).toEqual({
      'border-top-left-radius': '2px',
      'font-family': 'Georgia, "DejaVu Serif", serif',
      'font-size': '15px',
    });
    expect(await computed(inPanel(page, 'h2'), ['font-variant-caps'])).toEqual({
      'font-variant-caps': 'small-caps',
    });
    expect(
      await computed(inPanel(page, 'button[data-action="retry"]'), [
        'background-color',
        'color',
        'text-transform',
        'border-top-left-radius',
      ]),
    ).toEqual({
      'background-color': VIOLET,
      color: 'rgb(255, 255, 255)',
      'text-transform': 'uppercase',
      'border-top-left-radius': '2px',
    });
    expect(await computed(inPanel(page, '.bar'), ['height', 'background-color'])).toEqual({
      height: '20px',
      'background-color': 'rgb(228, 220, 251)',
    });
    expect(await computed(inPanel(page, '.fill'), ['background-color'])).toEqual({
      'background-color': VIOLET,
    });
    // Each artifact row, through ::part(artifact); the small bars are not the overall one.
    await expectCount(inPanel(page, 'li.artifact'), 2);
    for (const row of await inPanel(page, 'li.artifact').all()) {
      expect(await computed(row, ['border-left-width', 'border-left-color', 'background-color'])).toEqual({
        'border-left-width': '4px',
        'border-left-color': VIOLET,
        'background-color': 'rgb(245, 243, 255)',
      });
    }
    expect(await computed(inPanel(page, '.bar.small'), ['height'])).toEqual({ height: '8px' });
    expect(await computed(inPanel(page, '.error.note'), ['font-style'])).toEqual({ 'font-style': 'italic' });
    await page.screenshot({ path: screenshotPath('themed.png'), fullPage: true });

    const settings = await openPage(browser, p.settingsUrl);
    await addHostStyles(settings.page, HOST_CSS);
    await expectCount(inPanel(settings.page, 'dl'), 1);
    expect(await computed(inPanel(settings.page, 'dl'), ['border-top-style'])).toEqual({
      'border-top-style': 'dashed',
    });
    expect(await computed(inPanel(settings.page, '.path'), ['font-family'])).toEqual({
      'font-family': '"DejaVu Sans Mono", monospace',
    });
    expect(await computed(inPanel(settings.page, 'select'), ['border-top-left-radius'])).toEqual({
      'border-top-left-radius': '2px',
    });
    expect([...errors, ...settings.errors]).toEqual([]);
  });

  it('is dark when the system prefers dark, unless the host sets a scheme (theme, color-scheme, --vm-cache-color-scheme)', async () => {
    const p = await preview();
    await p.controller.sync();

    const dark = await openPage(browser, p.settingsUrl, {
      colorScheme: 'dark',
      viewport: { width: 900, height: 560 },
    });
    await waitForState(dark.page, ['ready']);
    expect(await scheme(dark.page)).toEqual({ ...DARK, 'color-scheme': 'light dark' });
    // The native select follows the panel's scheme too.
    expect(await computed(inPanel(dark.page, 'select'), ['color-scheme', 'background-color'])).toEqual({
      'color-scheme': 'light dark',
      'background-color': 'rgb(22, 27, 34)',
    });
    await dark.page.locator('vm-cache-panel').getByRole('button', { name: 'Verify' }).click();
    await expectCount(inPanel(dark.page, '.verify li[data-state=ok]'), 2);
    await dark.page.screenshot({ path: screenshotPath('settings-dark.png'), fullPage: true });

    // theme="light" wins over the system's dark.
    await panelHost(dark.page).evaluate((el) => el.setAttribute('theme', 'light'));
    expect(await scheme(dark.page)).toEqual({ ...LIGHT, 'color-scheme': 'light' });

    // And theme="dark" over a light system; the property reflects.
    const light = await openPage(browser, p.firstRunUrl, { colorScheme: 'light' });
    await waitForState(light.page, ['ready']);
    expect(await scheme(light.page)).toEqual({ ...LIGHT, 'color-scheme': 'light dark' });
    await panelHost(light.page).evaluate((el) => Object.assign(el, { theme: 'dark' }));
    await expect.poll(() => panelHost(light.page).getAttribute('theme')).toBe('dark');
    expect(await scheme(light.page)).toEqual({ ...DARK, 'color-scheme': 'dark' });
    await panelHost(light.page).evaluate((el) => el.removeAttribute('theme'));
    expect(await scheme(light.page)).toEqual({ ...LIGHT, 'color-scheme': 'light dark' });

    // A host's own color-scheme on the element, or the custom property anywhere above it.
    await addHostStyles(light.page, 'vm-cache-panel { color-scheme: dark; }');
    expect(await scheme(light.page)).toEqual({ ...DARK, 'color-scheme': 'dark' });
    // The page's own rule on the element beats the theme attribute (the outer cascade wins over :host).
    await panelHost(light.page).evaluate((el) => el.setAttribute('theme', 'light'));
    expect(await scheme(light.page)).toEqual({ ...DARK, 'color-scheme': 'dark' });
    const inherited = await openPage(browser, p.firstRunUrl, { colorScheme: 'light' });
    await addHostStyles(inherited.page, ':root { --vm-cache-color-scheme: dark; }');
    expect(await scheme(inherited.page)).toEqual({ ...DARK, 'color-scheme': 'dark' });
    expect([...dark.errors, ...light.errors, ...inherited.errors]).toEqual([]);
  });

  it('stays readable in forced colours: system colours, bars with a border and a Highlight fill, rows outlined', async () => {
    const p = await preview({ throttleBytesPerSec: 1_000_000 });
    const { page, errors } = await openPage(browser, p.firstRunUrl, {
      forcedColors: 'active',
      colorScheme: 'dark',
      viewport: { width: 900, height: 640 },
    });
    await waitForState(page, ['empty']);
    await cancelPartWay(page, 30);

    const host = await scheme(page);
    expect(host.color).not.toBe(host['background-color']);
    const track = await computed(inPanel(page, '.bar'), [
      'background-color',
      'border-top-width',
      'border-top-color',
    ]);
    const fill = await computed(inPanel(page, '.fill'), ['background-color']);
    // The fill must differ from its track and from the panel, and the track must show its edge.
    expect(fill['background-color']).not.toBe(track['background-color']);
    expect(fill['background-color']).not.toBe(host['background-color']);
    expect(track['border-top-width']).toBe('1px');
    expect(track['border-top-color']).not.toBe(track['background-color']);
    const row = await computed(inPanel(page, 'li.artifact'), [
      'border-top-width',
      'border-top-color',
      'background-color',
    ]);
    expect(row['border-top-width']).toBe('1px');
    expect(row['border-top-color']).not.toBe(row['background-color']);
    const retry = await computed(inPanel(page, 'button[data-action="retry"]'), [
      'color',
      'background-color',
      'border-top-width',
    ]);
    expect(retry.color).not.toBe(retry['background-color']);
    expect(retry['border-top-width']).toBe('2px');
    const words = await computed(inPanel(page, '.error .words'), ['color']);
    expect(words.color).not.toBe(host['background-color']);
    await page.screenshot({ path: screenshotPath('first-run-forced-colors.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
