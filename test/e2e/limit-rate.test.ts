// The settings page's "Download speed limit" in real Chromium, against the
// real engine through the preview's bridge: changed during a sync, the
// controller takes it and the download slows to it, then speeds up again when
// it is lifted; the page shows the cap in effect, also one the host set, and
// a change the main side refuses snaps back.
import type { Browser, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { ERROR_WORDS } from '../../contract/errors.js';
import type { Preview } from '../../preview/index.js';
import {
  browserSuite,
  expectText,
  openPage,
  panelState,
  preview,
  screenshotPath,
  textOf,
  useBrowser,
  waitForState,
} from './harness.js';

let browser: Browser;

const MB = 1000 * 1000;

function limitSelect(page: Page) {
  return page.locator('vm-cache-panel').getByLabel('Download speed limit');
}

/** The label of the option the select shows. */
function shownLimit(page: Page): Promise<string | null> {
  return textOf(page.locator('vm-cache-panel select[data-setting="limit-rate"] option:checked'));
}

function received(p: Preview): number {
  return p.controller.currentProgress()?.receivedBytes ?? 0;
}

/** Bytes per second the engine received over `ms`, read from the controller (not from the page). */
async function measuredRate(p: Preview, ms: number): Promise<number> {
  const r0 = received(p);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  return ((received(p) - r0) / (performance.now() - t0)) * 1000;
}

browserSuite('download speed limit (Chromium)', () => {
  useBrowser((b) => {
    browser = b;
  });

  it('is changed during a sync: the controller takes it, the download slows to it and speeds up when lifted', async () => {
    // One 16 MB image the server sends at 4 MB/s: about 4 s uncapped, 16 s at 1 MB/s.
    const p = await preview({
      artifacts: [{ agent: 'openclaw', version: '2026.4.12', arch: 'x64', sizeBytes: 16 * MB }],
      throttleBytesPerSec: 4 * MB,
    });
    const { page, errors } = await openPage(browser, p.settingsUrl);
    await waitForState(page, ['empty']);
    await expect.poll(() => shownLimit(page)).toBe('No limit');
    expect(await limitSelect(page).inputValue()).toBe('none');

    await page.locator('vm-cache-panel').getByRole('button', { name: 'Check for updates' }).click();
    await waitForState(page, ['downloading']);
    await expect.poll(() => received(p), { timeout: 10_000, interval: 20 }).toBeGreaterThan(MB / 2);
    const uncapped = await measuredRate(p, 1000);

    await limitSelect(page).selectOption({ label: '1 MB/s' });
    await expect.poll(() => p.controller.limitRate, { interval: 20 }).toBe(1 * MB);
    await expectText(page.locator('vm-cache-panel [role=status]'), 'Download speed limit set to 1 MB/s.');
    expect(await panelState(page)).toBe('downloading');
    // Past the bucket the cap lets through at once, then over two seconds.
    await new Promise((r) => setTimeout(r, 300));
    const capped = await measuredRate(p, 2000);
    expect(capped).toBeLessThan(1.25 * MB);
    expect(capped).toBeGreaterThan(0.5 * MB);
    expect(uncapped).toBeGreaterThan(2 * capped);
    await page.screenshot({ path: screenshotPath('settings-limit-rate.png'), fullPage: true });

    await limitSelect(page).selectOption({ label: 'No limit' });
    await expect.poll(() => p.controller.limitRate, { interval: 20 }).toBeUndefined();
    await expectText(page.locator('vm-cache-panel [role=status]'), 'Download speed limit removed.');
    const lifted = performance.now();
    await waitForState(page, ['done'], 15_000);
    // What was left (well over 8 MB) at 1 MB/s would take more than 8 s.
    expect(performance.now() - lifted).toBeLessThan(6_000);
    expect(await shownLimit(page)).toBe('No limit');
    expect(errors).toEqual([]);
  });

  it('shows the cap in effect, also one set elsewhere; a change the main side refuses snaps back', async () => {
    const p = await preview({ limitRate: 3 << 20 });
    const { page, errors } = await openPage(browser, p.settingsUrl);
    await waitForState(page, ['empty']);
    // 3 MiB/s is none of the presets: it shows as one more choice, in the panel's units.
    await expect.poll(() => shownLimit(page)).toBe('3.15 MB/s');
    expect(await limitSelect(page).inputValue()).toBe(String(3 << 20));

    await limitSelect(page).selectOption({ label: '5 MB/s' });
    await expect.poll(() => p.controller.limitRate, { interval: 20 }).toBe(5 * MB);
    // The preset list again, without the host's odd value (no longer in effect).
    await expect.poll(() => page.locator('vm-cache-panel select option').count()).toBe(8);

    // A controller that refuses: the error in words, and the select back at the cap in effect.
    const real = p.controller.setLimitRate.bind(p.controller);
    p.controller.setLimitRate = () => {
      throw new Error('this app keeps its own limit');
    };
    try {
      await limitSelect(page).selectOption({ label: '20 MB/s' });
      await expectText(page.locator('vm-cache-panel .error .words'), ERROR_WORDS.ERR_INTERNAL);
      await expectText(page.locator('vm-cache-panel .error .message'), 'this app keeps its own limit');
      await expect.poll(() => shownLimit(page)).toBe('5 MB/s');
      expect(p.controller.limitRate).toBe(5 * MB);
    } finally {
      p.controller.setLimitRate = real;
    }
    // The next change that works takes the error away.
    await limitSelect(page).selectOption({ label: 'No limit' });
    await expect.poll(() => p.controller.limitRate, { interval: 20 }).toBeUndefined();
    await expect.poll(() => page.locator('vm-cache-panel .error').count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('is on the settings page only, not on the first-run screen', async () => {
    const p = await preview();
    const { page } = await openPage(browser, p.firstRunUrl);
    await waitForState(page, ['empty']);
    expect(await page.locator('vm-cache-panel select').count()).toBe(0);
  });
});
