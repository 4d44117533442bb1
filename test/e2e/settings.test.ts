// The settings form in real Chromium: what is cached, Check for updates,
// Verify (ok and corrupt), Clear cache with its inline confirmation, and a
// sync's progress shown in the compact form.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { formatBytes } from '../../renderer/panel/format.js';
import {
  browserSuite,
  expectCount,
  expectText,
  expectVisible,
  focusedInPanel,
  manifestEntry,
  openPage,
  preview,
  screenshotPath,
  useBrowser,
  waitForState,
} from './harness.js';

let browser: Browser;

function field(page: Page, name: string) {
  return page.locator(`vm-cache-panel dd[data-field="${name}"]`);
}

function button(page: Page, name: string) {
  return page.locator('vm-cache-panel .actions').getByRole('button', { name, exact: true });
}

function confirmGroup(page: Page) {
  return page.locator('vm-cache-panel').getByRole('group', { name: 'Confirm clearing the cache' });
}

browserSuite('settings form (Chromium)', () => {
  useBrowser((b) => {
    browser = b;
  });

  it('shows the cache, checks for updates, verifies, and clears only after the inline confirmation', async () => {
    const p = await preview();
    await p.controller.sync();
    const status = await p.controller.getStatus();
    const { page, errors } = await openPage(browser, p.settingsUrl, {
      viewport: { width: 900, height: 560 },
    });
    await waitForState(page, ['ready']);

    await expectText(field(page, 'version'), 'openclaw 2026.4.12, hermes 1.8.0');
    await expectText(field(page, 'size'), formatBytes(status.sizeOnDiskBytes));
    await expectText(field(page, 'published'), /2026/);
    expect(await field(page, 'last-sync').textContent()).not.toBe('Never');
    await expectText(field(page, 'log'), p.logPath);

    // Check for updates on a current cache: the manifest (and its signature: the preview's demo is signed) is fetched, nothing else.
    const before = p.artifactServer!.requests.length;
    await button(page, 'Check for updates').click();
    await expectText(page.locator('vm-cache-panel [data-role=notice]'), 'Up to date.');
    expect(p.artifactServer!.requests.slice(before).map((r) => r.path)).toEqual([
      'vm/manifest.json',
      'vm/manifest.json.sig',
    ]);

    await button(page, 'Verify').click();
    await expectText(
      page.locator('vm-cache-panel .verify-report .phase'),
      'Verified: all 2 VM images are intact.',
    );
    await expectCount(page.locator('vm-cache-panel .verify li[data-state=ok]'), 2);
    await expectText(page.locator('vm-cache-panel .verify li').first(), 'openclaw 2026.4.12 (x64) ✓ ok');
    await page.screenshot({ path: screenshotPath('settings.png'), fullPage: true });

    // Clear: the first press only asks, in the panel; Keep backs out.
    await button(page, 'Clear cache').click();
    await expectVisible(confirmGroup(page));
    await expectText(confirmGroup(page).locator('p'), `Clear ${formatBytes(status.sizeOnDiskBytes)}?`);
    expect(await focusedInPanel(page)).toBe('Keep');
    await confirmGroup(page).getByRole('button', { name: 'Keep' }).click();
    await expectCount(confirmGroup(page), 0);
    expect(await focusedInPanel(page)).toBe('Clear cache');
    expect((await p.controller.getStatus()).cached).not.toBeNull();

    await button(page, 'Clear cache').click();
    await confirmGroup(page).getByRole('button', { name: 'Clear cache' }).click();
    await expectText(
      page.locator('vm-cache-panel [data-role=notice]'),
      `Cache cleared: ${formatBytes(status.sizeOnDiskBytes)} freed.`,
    );
    await expectText(field(page, 'version'), 'No VM images cached');
    await expectText(field(page, 'size'), '0 B');
    await expectText(field(page, 'last-sync'), 'Never');
    await waitForState(page, ['empty']);
    expect((await p.controller.getStatus()).cached).toBeNull();

    // A sync started here shows its progress in the compact form.
    await button(page, 'Check for updates').click();
    await waitForState(page, ['downloading']);
    await expectVisible(
      page.locator('vm-cache-panel').getByRole('progressbar', { name: 'Overall download progress' }),
    );
    await expectVisible(button(page, 'Cancel'));
    await waitForState(page, ['done']);
    await expectText(page.locator('vm-cache-panel [data-role=notice]'), 'Downloaded 2 VM images.');
    await expectText(field(page, 'version'), 'openclaw 2026.4.12, hermes 1.8.0');
    expect(errors).toEqual([]);
  });

  it('Verify names a corrupt image, and Check for updates repairs it', async () => {
    const p = await preview();
    await p.controller.sync();
    const { key } = manifestEntry(p, 'hermes');
    const file = path.join(p.root, 'cache', key);
    const handle = await fs.open(file, 'r+');
    await handle.write(Buffer.from([0xff, 0x00, 0xff]), 0, 3, 1000);
    await handle.close();

    const { page, errors } = await openPage(browser, p.settingsUrl);
    await waitForState(page, ['ready']);
    await button(page, 'Verify').click();
    await expectText(
      page.locator('vm-cache-panel .verify-report .phase'),
      'Verified: 1 of 2 VM images need downloading again.',
    );
    await expectText(page.locator(`vm-cache-panel .verify li[data-key="${key}"] .state`), /^corrupt/);

    const served = p.artifactServer!.bytesServed(key);
    await button(page, 'Check for updates').click();
    await expectText(page.locator('vm-cache-panel [data-role=notice]'), 'Downloaded 1 VM image.');
    expect(p.artifactServer!.bytesServed(key)).toBeGreaterThan(served);
    await button(page, 'Verify').click();
    await expectText(
      page.locator('vm-cache-panel .verify-report .phase'),
      'Verified: all 2 VM images are intact.',
    );
    expect(errors).toEqual([]);
  });
});
