// The panel in other languages, in real Chromium against the real engine: the
// German panel (its words, and numbers, sizes and dates written the German
// way), a host's own words laid over the table, a change of lang redrawing
// the panel, and a right-to-left page mirroring its layout.
import type { Browser, Locator, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { ERROR_WORDS } from '../../contract/errors.js';
import { GERMAN_WORDS } from '../../renderer/panel/words-de.js';
import {
  axeSerious,
  browserSuite,
  cancelPartWay,
  computed,
  expectText,
  manifestEntry,
  openPage,
  panelHost,
  preview,
  screenshotPath,
  textOf,
  useBrowser,
  waitForState,
} from './harness.js';

let browser: Browser;

function panel(page: Page): Locator {
  return page.locator('vm-cache-panel');
}

function button(page: Page, name: string): Locator {
  return panel(page).getByRole('button', { name, exact: true });
}

function field(page: Page, name: string): Locator {
  return page.locator(`vm-cache-panel dd[data-field="${name}"]`);
}

function row(page: Page, key: string): Locator {
  return page.locator(`vm-cache-panel li.artifact[data-key="${key}"]`);
}

/** The section's language attributes: the words' (lang) and the numbers' (data-locale). */
async function languages(page: Page): Promise<{ words: string | null; numbers: string | null }> {
  const section = page.locator('vm-cache-panel section');
  return { words: await section.getAttribute('lang'), numbers: await section.getAttribute('data-locale') };
}

type Box = { left: number; right: number; width: number };

/** Bounding boxes of elements inside the panel, by selector (the first match of each). */
function boxes(page: Page, selectors: string[]): Promise<Record<string, Box>> {
  return panelHost(page).evaluate((host, list) => {
    const out: Record<string, Box> = {};
    for (const selector of list) {
      const el = host.shadowRoot!.querySelector(selector);
      if (!el) throw new Error(`no ${selector} in the panel`);
      const r = el.getBoundingClientRect();
      out[selector] = { left: r.left, right: r.right, width: r.width };
    }
    return out;
  }, selectors);
}

browserSuite('locales (Chromium)', () => {
  useBrowser((b) => {
    browser = b;
  });

  it('speaks German with ?lang=de: the words, decimal commas, "von", German units and the page around it', async () => {
    const p = await preview({ locale: 'de', throttleBytesPerSec: 500_000 });
    expect(p.firstRunUrl).toMatch(/\/first-run\.html\?lang=de$/);
    const openclaw = manifestEntry(p, 'openclaw');
    const hermes = manifestEntry(p, 'hermes');
    const { page, errors } = await openPage(browser, p.firstRunUrl, {
      viewport: { width: 900, height: 640 },
    });
    await waitForState(page, ['empty']);
    expect(await page.locator('html').getAttribute('lang')).toBe('de');
    expect(await page.title()).toBe('VM-Images werden eingerichtet');
    await expectText(page.locator('h1'), 'Willkommen');
    expect(await languages(page)).toEqual({ words: 'de', numbers: 'de' });
    await expectText(page.locator('vm-cache-panel h2'), 'VM-Images werden eingerichtet');
    await expectText(
      page.locator('vm-cache-panel [data-role=phase]'),
      'Die VM-Images wurden noch nicht heruntergeladen.',
    );

    await button(page, 'Herunterladen').click();
    await waitForState(page, ['downloading']);
    await expectText(page.locator('vm-cache-panel [data-role=phase]'), 'VM-Images werden heruntergeladen …');
    // 5 129 090 bytes in all: "5,13 MB", with a decimal comma and a non-breaking space before the unit.
    const stats = page.locator('vm-cache-panel .stats span');
    await expect
      .poll(() => stats.allTextContents(), { timeout: 10_000, interval: 50 })
      .toEqual([
        expect.stringMatching(/^[\d,]+\u00a0(B|kB|MB) von 5,13\u00a0MB$/),
        expect.stringMatching(/^[\d,]+\u00a0(kB|MB)\/s$/),
        expect.stringMatching(/^noch (\d+ Sek\.|weniger als eine Sekunde)$/),
      ]);
    const overall = page.locator('vm-cache-panel [role=progressbar]').first();
    expect(await overall.getAttribute('aria-label')).toBe('Gesamtfortschritt des Downloads');
    expect(await overall.getAttribute('aria-valuetext')).toMatch(
      /^\d+\u00a0%, [\d,]+\u00a0(B|kB|MB) von 5,13\u00a0MB$/,
    );
    await expectText(row(page, openclaw.key).locator('.row .detail').first(), '3,07 MB');
    await expectText(row(page, hermes.key).locator('.row .detail').first(), '2,06 MB');
    expect(await row(page, hermes.key).getByRole('progressbar').getAttribute('aria-label')).toBe(
      'Download von hermes 1.8.0 (x64)',
    );
    await expect
      .poll(() => textOf(row(page, openclaw.key).locator('.state')), { timeout: 10_000, interval: 50 })
      .toMatch(/^(Wird heruntergeladen|sha256 wird geprüft …|✓ sha256 geprüft [0-9a-f]{12})$/);
    await page.screenshot({ path: screenshotPath('first-run-de.png'), fullPage: true });

    await waitForState(page, ['done']);
    await expectText(page.locator('vm-cache-panel [data-role=phase]'), 'Die VM-Images sind bereit.');
    await expectText(
      row(page, openclaw.key).locator('.state'),
      `✓ sha256 geprüft ${openclaw.sha256.slice(0, 12)}`,
    );
    await expectText(
      page.locator('vm-cache-panel [role=status]'),
      /Die VM-Images sind bereit\.|sha256 geprüft\./,
    );
    await expectText(panel(page).locator('.actions'), 'Weiter');
    expect(errors).toEqual([]);
  });

  it('keeps the settings form in German: labels, a German date, sizes, Verify, the speed limit, Clear', async () => {
    const p = await preview({ locale: 'de' });
    await p.controller.sync();
    const { page, errors } = await openPage(browser, p.settingsUrl, {
      viewport: { width: 900, height: 620 },
    });
    await waitForState(page, ['ready']);
    await expectText(page.locator('h1'), 'Einstellungen');
    expect(
      await page.locator('vm-cache-panel dt').evaluateAll((els) => els.map((el) => el.textContent)),
    ).toEqual([
      'Version',
      'Veröffentlicht',
      'Belegter Speicherplatz',
      'Zuletzt erfolgreich aktualisiert',
      'Protokolldatei',
    ]);
    await expectText(field(page, 'published'), /^\d{2}\.\d{2}\.\d{4}$/);
    await expectText(field(page, 'last-sync'), /^\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}$/);
    await expectText(field(page, 'size'), /^\d,\d\d MB$/);
    const size = (await textOf(field(page, 'size')))!;

    const select = panel(page).getByLabel('Maximale Download-Geschwindigkeit');
    expect(await select.locator('option').allTextContents()).toEqual([
      'Unbegrenzt',
      ...[1, 2, 5, 10, 20, 50, 100].map((n) => `${n}\u00a0MB/s`),
    ]);

    await button(page, 'Prüfen').click();
    await expectText(
      page.locator('vm-cache-panel .verify-report .phase'),
      'Geprüft: Alle 2 VM-Images sind intakt.',
    );
    await expectText(
      page.locator('vm-cache-panel .verify li').first(),
      'openclaw 2026.4.12 (x64) ✓ in Ordnung',
    );
    await page.screenshot({ path: screenshotPath('settings-de.png'), fullPage: true });
    expect((await axeSerious(page)).map((v) => v.id)).toEqual([]);

    await button(page, 'Cache leeren').click();
    const confirm = panel(page).getByRole('group', { name: 'Leeren des Caches bestätigen' });
    await expectText(confirm.locator('p'), `${size} löschen?`);
    await confirm.getByRole('button', { name: 'Cache leeren' }).click();
    await expectText(
      page.locator('vm-cache-panel [data-role=notice]'),
      `Cache geleert: ${size} freigegeben.`,
    );
    await expectText(field(page, 'version'), 'Keine VM-Images im Cache');
    await expectText(field(page, 'last-sync'), 'Noch nie');
    expect(errors).toEqual([]);
  });

  it('says a failure in German, with the engine’s detail marked as English, and Erneut versuchen', async () => {
    const p = await preview({ locale: 'de-AT' });
    p.armFault('fail-once');
    const { page, errors } = await openPage(browser, p.firstRunUrl);
    expect(await languages(page)).toEqual({ words: 'de', numbers: 'de-AT' });
    await button(page, 'Herunterladen').click();
    await waitForState(page, ['failed']);
    await expectText(page.locator('vm-cache-panel .error .words'), GERMAN_WORDS.errors.ERR_DOWNLOAD_HTTP);
    const message = page.locator('vm-cache-panel .error .message');
    await expectText(message, /HTTP 503/);
    expect(await message.getAttribute('lang')).toBe('en');
    await expectText(
      page.locator('vm-cache-panel [role=status]'),
      /^Download fehlgeschlagen\. Der Image-Server/,
    );
    await button(page, 'Erneut versuchen').click();
    await waitForState(page, ['done']);
    expect(errors).toEqual([]);
  });

  it('lays a host’s words over the table, and redraws when lang changes on the page or the element', async () => {
    const p = await preview();
    p.armFault('fail-once');
    const { page, errors } = await openPage(browser, p.firstRunUrl);
    await waitForState(page, ['empty']);
    expect(await languages(page)).toEqual({ words: 'en', numbers: 'en-US' });
    await panelHost(page).evaluate((el) => {
      Object.assign(el, {
        words: {
          notDownloadedYet: 'Nothing here yet.',
          buttons: { download: 'Fetch the images' },
          errors: { ERR_DOWNLOAD_HTTP: 'The server said no.' },
        },
      });
    });
    await expectText(page.locator('vm-cache-panel [data-role=phase]'), 'Nothing here yet.');
    await expectText(panel(page).locator('.actions'), 'Fetch the images');
    await expectText(page.locator('vm-cache-panel h2'), 'Setting up VM images');

    // The page switches to German: the table under the host's words follows.
    await page.locator('html').evaluate((html) => html.setAttribute('lang', 'de'));
    await expectText(page.locator('vm-cache-panel h2'), 'VM-Images werden eingerichtet');
    await expectText(panel(page).locator('.actions'), 'Fetch the images');
    await expectText(page.locator('vm-cache-panel [data-role=phase]'), 'Nothing here yet.');
    expect(await languages(page)).toEqual({ words: 'de', numbers: 'de' });

    // The element's own lang wins over the page's.
    await panelHost(page).evaluate((el) => el.setAttribute('lang', 'en-GB'));
    await expectText(page.locator('vm-cache-panel h2'), 'Setting up VM images');
    expect(await languages(page)).toEqual({ words: 'en', numbers: 'en-GB' });

    await button(page, 'Fetch the images').click();
    await waitForState(page, ['failed']);
    await expectText(page.locator('vm-cache-panel .error .words'), 'The server said no.');
    await expectText(button(page, 'Retry'), 'Retry');
    expect(ERROR_WORDS.ERR_DOWNLOAD_HTTP).not.toBe('The server said no.');
    expect(errors).toEqual([]);
  });

  it('mirrors on a right-to-left page (dir="rtl", lang="ar": English words, Arabic locale numbers)', async () => {
    const p = await preview({ throttleBytesPerSec: 1_000_000 });
    const { key } = manifestEntry(p, 'openclaw');
    const { page, errors } = await openPage(browser, p.firstRunUrl, {
      viewport: { width: 900, height: 620 },
    });
    await page.locator('html').evaluate((html) => {
      html.setAttribute('lang', 'ar');
      html.setAttribute('dir', 'rtl');
    });
    await waitForState(page, ['empty']);
    expect(await languages(page)).toEqual({ words: 'en', numbers: 'ar' });
    await cancelPartWay(page, 25);

    const b = await boxes(page, [
      '.bar',
      '.fill',
      `li[data-key="${key}"]`,
      `li[data-key="${key}"] .name`,
      `li[data-key="${key}"] .row .detail`,
      '.actions',
      '.actions button',
    ]);
    const near = (a: number, c: number) => Math.abs(a - c) <= 1;
    // The overall bar fills from the right.
    expect(near(b['.fill']!.right, b['.bar']!.right), JSON.stringify(b)).toBe(true);
    expect(b['.fill']!.left).toBeGreaterThan(b['.bar']!.left + 20);
    // A row's name is on the right, its size on the left.
    expect(b[`li[data-key="${key}"] .name`]!.left).toBeGreaterThan(
      b[`li[data-key="${key}"] .row .detail`]!.right,
    );
    // The buttons start on the right.
    expect(near(b['.actions button']!.right, b['.actions']!.right)).toBe(true);
    // The note's heavy edge is on the start side, which is the right.
    const note = await computed(page.locator('vm-cache-panel .error'), [
      'border-left-width',
      'border-right-width',
    ]);
    expect(note['border-left-width']).toBe('1px');
    expect(Number.parseFloat(note['border-right-width'])).toBeGreaterThanOrEqual(4);
    await page.screenshot({ path: screenshotPath('first-run-rtl.png'), fullPage: true });
    expect((await axeSerious(page)).map((v) => v.id)).toEqual([]);
    expect(errors).toEqual([]);
  });
});
