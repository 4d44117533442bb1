// Accessibility in real Chromium: keyboard-only operation with visible focus,
// an axe-core scan in every state (light and dark), reflow at 200 % and 400 %
// zoom, reduced motion, and the progress bars' ARIA.
import type { Browser, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import {
  axeSerious,
  browserSuite,
  catchContinue,
  continued,
  expectCount,
  expectText,
  focusedInPanel,
  manifestEntry,
  openPage,
  panelHost,
  preview,
  useBrowser,
  waitForState,
} from './harness.js';

let browser: Browser;

/** Presses Tab (from wherever focus is) until the panel's focused element reads `name`. */
async function tabTo(page: Page, name: string, key = 'Tab'): Promise<void> {
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press(key);
    if ((await focusedInPanel(page)) === name) return;
  }
  throw new Error(
    `${key} never reached "${name}" (focus is on ${JSON.stringify(await focusedInPanel(page))})`,
  );
}

async function focusRing(page: Page): Promise<string> {
  return panelHost(page).evaluate((host) => {
    const el = host.shadowRoot!.activeElement!;
    const style = host.ownerDocument.defaultView!.getComputedStyle(el);
    return `${style.outlineStyle} ${style.outlineWidth}`;
  });
}

async function expectNoSerious(page: Page, label: string): Promise<void> {
  const violations = await axeSerious(page);
  const summary = violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} at ${JSON.stringify(v.nodes[0]?.target)}`,
  );
  expect(summary, `axe, ${label}`).toEqual([]);
}

/** Nothing inside the page or the panel's shadow root reaches past the viewport's right edge. */
function overflow(page: Page): Promise<string[]> {
  return panelHost(page).evaluate((host) => {
    const doc = host.ownerDocument.documentElement;
    const width = doc.clientWidth;
    const out: string[] = [];
    if (doc.scrollWidth > width) out.push(`page scrolls: ${doc.scrollWidth} > ${width}`);
    for (const el of host.shadowRoot!.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > width + 0.5)
        out.push(`${el.tagName.toLowerCase()}.${el.className}: right ${r.right} > ${width}`);
    }
    return out;
  });
}

browserSuite('accessibility (Chromium)', () => {
  useBrowser((b) => {
    browser = b;
  });

  it('works from the keyboard alone: Download, Cancel, Retry, Continue, with a visible focus ring', async () => {
    const p = await preview({ throttleBytesPerSec: 2_000_000 });
    const { key } = manifestEntry(p, 'openclaw');
    const { page, errors } = await openPage(browser, p.firstRunUrl);
    await waitForState(page, ['empty']);

    await tabTo(page, 'Download');
    expect(await focusRing(page)).toBe('solid 3px');
    await page.keyboard.press('Enter');
    await waitForState(page, ['downloading']);
    // Download was replaced by Cancel: focus follows instead of falling to <body>.
    await expect.poll(() => focusedInPanel(page)).toBe('Cancel');
    await expect
      .poll(
        async () =>
          Number(
            await page
              .locator(`vm-cache-panel li[data-key="${key}"] [role=progressbar]`)
              .getAttribute('aria-valuenow'),
          ),
        { timeout: 10_000, interval: 50 },
      )
      .toBeGreaterThan(10);
    await page.keyboard.press('Space');
    await waitForState(page, ['cancelled']);
    await expect.poll(() => focusedInPanel(page)).toBe('Retry');
    await expectText(page.locator('vm-cache-panel [role=status]'), 'Download cancelled.');

    await page.keyboard.press('Enter');
    await waitForState(page, ['done']);
    await expect.poll(() => focusedInPanel(page)).toBe('Continue');
    await catchContinue(page);
    await page.keyboard.press('Enter');
    expect(await continued(page)).toBe(true);
    expect(errors).toEqual([]);
  });

  it('works from the keyboard alone in settings: Clear cache, then confirm with Shift+Tab and Space', async () => {
    const p = await preview();
    await p.controller.sync();
    const { page, errors } = await openPage(browser, p.settingsUrl);
    await waitForState(page, ['ready']);
    await tabTo(page, 'Verify');
    await page.keyboard.press('Enter');
    await expectText(page.locator('vm-cache-panel .verify-report .phase'), /all 2 VM images are intact/);
    await tabTo(page, 'Clear cache');
    await page.keyboard.press('Enter');
    await expect.poll(() => focusedInPanel(page)).toBe('Keep');
    await page.keyboard.press('Shift+Tab');
    expect(await focusedInPanel(page)).toBe('Clear cache');
    expect(await focusRing(page)).toBe('solid 3px');
    await page.keyboard.press('Space');
    await waitForState(page, ['empty']);
    await expectText(page.locator('vm-cache-panel dd[data-field="version"]'), 'No VM images cached');
    await expect.poll(() => focusedInPanel(page)).toBe('Clear cache');
    expect(errors).toEqual([]);
  });

  it('has no serious or critical axe violations in any state, light or dark', async () => {
    const p = await preview({ throttleBytesPerSec: 2_000_000 });
    for (const colorScheme of ['light', 'dark'] as const) {
      await p.reset('fail-once');
      const { page, errors } = await openPage(browser, p.firstRunUrl, { colorScheme });
      await expectNoSerious(page, `${colorScheme}: before the first sync`);
      await page.locator('vm-cache-panel').getByRole('button', { name: 'Download' }).click();
      await waitForState(page, ['failed']);
      await expectNoSerious(page, `${colorScheme}: failed`);
      await page.locator('vm-cache-panel').getByRole('button', { name: 'Retry' }).click();
      await waitForState(page, ['downloading']);
      await expectNoSerious(page, `${colorScheme}: downloading`);
      await waitForState(page, ['done']);
      await expectNoSerious(page, `${colorScheme}: done`);

      const settings = await openPage(browser, p.settingsUrl, { colorScheme });
      await waitForState(settings.page, ['ready']);
      await settings.page.locator('vm-cache-panel').getByRole('button', { name: 'Verify' }).click();
      await expectCount(settings.page.locator('vm-cache-panel .verify li'), 2);
      await settings.page.locator('vm-cache-panel').getByRole('button', { name: 'Clear cache' }).click();
      await expectCount(settings.page.locator('vm-cache-panel .confirm'), 1);
      await expectNoSerious(
        settings.page,
        `${colorScheme}: settings with Verify results and the Clear confirmation`,
      );
      expect([...errors, ...settings.errors]).toEqual([]);
    }
  });

  it('labels every progress bar and announces state changes politely', async () => {
    const p = await preview();
    const { page } = await openPage(browser, p.firstRunUrl);
    await page.locator('vm-cache-panel').getByRole('button', { name: 'Download' }).click();
    await waitForState(page, ['downloading']);
    const bars = await page.locator('vm-cache-panel [role=progressbar]').evaluateAll((els) =>
      els.map((el) => ({
        label: el.getAttribute('aria-label'),
        min: el.getAttribute('aria-valuemin'),
        max: el.getAttribute('aria-valuemax'),
        now: el.getAttribute('aria-valuenow'),
      })),
    );
    expect(bars.map((b) => b.label)).toEqual([
      'Overall download progress',
      'openclaw 2026.4.12 (x64) download',
      'hermes 1.8.0 (x64) download',
    ]);
    for (const b of bars) {
      expect(b.min).toBe('0');
      expect(b.max).toBe('100');
      expect(Number(b.now)).toBeGreaterThanOrEqual(0);
      expect(Number(b.now)).toBeLessThanOrEqual(100);
    }
    const live = page.locator('vm-cache-panel [aria-live=polite]');
    expect(await live.count()).toBe(1);
    await expectText(live, 'Downloading VM images…');
    await waitForState(page, ['done']);
    await expectText(live, /VM images are ready\.|sha256 verified\./);
  });

  it('reflows at 200 % and 400 % zoom without horizontal scrolling', async () => {
    const p = await preview();
    await p.controller.sync();
    // A 1280 px window at 200 % zoom is a 640 CSS px viewport; at 400 %, 320.
    // German too: its words are longer ("Zuletzt erfolgreich aktualisiert").
    const settingsDe = `${p.settingsUrl}?lang=de`;
    for (const width of [640, 320]) {
      for (const url of [p.firstRunUrl, p.settingsUrl, `${p.firstRunUrl}?lang=de`, settingsDe]) {
        const { page } = await openPage(browser, url, { viewport: { width, height: 700 } });
        await waitForState(page, ['ready']);
        if (url === p.settingsUrl)
          await page.locator('vm-cache-panel').getByRole('button', { name: 'Verify' }).click();
        if (url === settingsDe)
          await page.locator('vm-cache-panel').getByRole('button', { name: 'Prüfen' }).click();
        expect(await overflow(page), `${url} at ${width}px`).toEqual([]);
      }
    }
  });

  it('animates the bars only when the user has not asked for reduced motion', async () => {
    const p = await preview({ throttleBytesPerSec: 1_000_000 });
    const motion: Record<string, { animation: string; transition: string }> = {};
    for (const reducedMotion of ['reduce', 'no-preference'] as const) {
      await p.reset();
      const { page } = await openPage(browser, p.firstRunUrl, { reducedMotion });
      await page.locator('vm-cache-panel').getByRole('button', { name: 'Download' }).click();
      await waitForState(page, ['downloading']);
      const fill = page.locator('vm-cache-panel .fill.active').first();
      await fill.waitFor();
      motion[reducedMotion] = await fill.evaluate((el) => {
        const s = el.ownerDocument.defaultView!.getComputedStyle(el);
        return { animation: s.animationName, transition: s.transitionDuration };
      });
      await p.controller.cancel();
    }
    expect(motion.reduce).toEqual({ animation: 'none', transition: '0s' });
    expect(motion['no-preference']!.animation).toBe('stripes');
  });
});
