// The settings page's lasting choices in real Chromium, against the real
// engine through the preview's bridge: "Download updates automatically" (the
// controller takes it, a reload shows it), and "Move cache to…" (the
// preview's stand-in for the OS picker names the folder): the files move,
// the page shows the new place, a check for updates there downloads nothing;
// a folder the move must refuse leaves the cache where it was, in words.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, expect, it } from 'vitest';
import { lockPath } from '../../main/engine/local-state.js';
import { acquireLock } from '../../main/engine/lock.js';
import {
  browserSuite,
  expectText,
  openPage,
  preview,
  screenshotPath,
  textOf,
  useBrowser,
  waitForState,
} from './harness.js';

let browser: Browser;
const folders: string[] = [];

async function emptyFolder(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vm-cache-e2e-move-'));
  folders.push(dir);
  return dir;
}

const panel = (page: Page) => page.locator('vm-cache-panel');
const autoUpdate = (page: Page) => panel(page).getByLabel('Download updates automatically');
const moveButton = (page: Page) => panel(page).getByRole('button', { name: 'Move cache to…' });
const shownRoot = (page: Page) => textOf(panel(page).locator('[data-field="root"]'));

browserSuite('lasting settings (Chromium)', () => {
  useBrowser((b) => {
    browser = b;
  });
  afterAll(async () => {
    await Promise.all(folders.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('"Download updates automatically": unticked, the controller takes it, and a reload shows it unticked', async () => {
    const p = await preview();
    const { page, errors } = await openPage(browser, p.settingsUrl);
    await waitForState(page, ['empty']);
    await expect.poll(() => autoUpdate(page).isChecked()).toBe(true);
    await autoUpdate(page).uncheck();
    await expect.poll(() => p.controller.autoUpdate).toBe(false);
    await expectText(panel(page).locator('[role=status]'), 'Updates download only when you check for them.');
    await page.reload();
    await waitForState(page, ['empty']);
    await expect.poll(() => autoUpdate(page).isChecked()).toBe(false);
    await autoUpdate(page).check();
    await expect.poll(() => p.controller.autoUpdate).toBe(true);
    expect(errors).toEqual([]);
  });

  it('"Move cache to…": the images move to the folder picked, the page shows it, and they stay current there', async () => {
    const target = path.join(await emptyFolder(), 'Other disk');
    await mkdir(target);
    const p = await preview({ moveTo: target });
    await p.controller.sync();
    const from = p.controller.root;
    const { page, errors } = await openPage(browser, p.settingsUrl);
    await waitForState(page, ['ready']);
    await expect.poll(() => shownRoot(page)).toBe(from);

    await moveButton(page).click();
    await expectText(panel(page).locator('[data-role="notice"]'), new RegExp(`^Moved .+ to ${target}\\.$`));
    await expect.poll(() => shownRoot(page)).toBe(target);
    expect(p.controller.root).toBe(target);
    expect(existsSync(path.join(from, 'cache'))).toBe(false);
    expect(await p.controller.hasCompleteCache()).toBe(true);
    await page.screenshot({ path: screenshotPath('settings-moved.png'), fullPage: true });

    // Current where it now is: a check for updates downloads nothing.
    const before = p.artifactServer!.requests.filter((r) => r.path.endsWith('.tar.gz')).length;
    await panel(page).getByRole('button', { name: 'Check for updates' }).click();
    await expectText(panel(page).locator('[data-role="notice"]'), 'Up to date.');
    expect(p.artifactServer!.requests.filter((r) => r.path.endsWith('.tar.gz')).length).toBe(before);
    expect(errors).toEqual([]);
  });

  it('a folder the move must refuse: the words say why, the cache stays where it was and is whole', async () => {
    // The picked folder holds a file named vm-cache where the cache's folder would go.
    const picked = await emptyFolder();
    await writeFile(path.join(picked, 'notes.txt'), 'mine');
    await writeFile(path.join(picked, 'vm-cache'), 'not a folder');
    const p = await preview({ moveTo: picked });
    await p.controller.sync();
    const from = p.controller.root;
    const { page } = await openPage(browser, p.settingsUrl);
    await waitForState(page, ['ready']);
    await moveButton(page).click();
    const error = panel(page).locator('[part~="error"]');
    await expect.poll(() => error.getAttribute('data-code')).toBe('ERR_CACHE_LAYOUT');
    // Where the cache stayed, in the page's words; why, in the engine's.
    expect(await textOf(error.locator('[part="error-words"]'))).toBe(
      `The VM images were not moved and stay in ${from}. Choose another folder:`,
    );
    expect(await textOf(error.locator('[part="error-message"]'))).toMatch(/nothing was moved/i);
    expect(p.controller.root).toBe(from);
    expect(await p.controller.hasCompleteCache()).toBe(true);
    // The button is there to try another folder.
    await expect.poll(() => moveButton(page).getAttribute('aria-disabled')).toBe('false');
  });

  it('while it moves the row offers Cancel; cancelled, the images stay where they were', async () => {
    const target = path.join(await emptyFolder(), 'never');
    const p = await preview({ moveTo: target });
    await p.controller.sync();
    const from = p.controller.root;
    // Another process uses the cache (its lock held here): the move waits, and can be cancelled.
    const held = await acquireLock(lockPath(from), { timeoutMs: 1_000 });
    try {
      const { page, errors } = await openPage(browser, p.settingsUrl);
      await waitForState(page, ['ready']);
      await moveButton(page).click();
      await expectText(panel(page).locator('[data-role="moving"]'), /^Moving the VM images/);
      // Check, Verify and Clear wait, inert, while the cache moves.
      for (const name of ['Check for updates', 'Verify', 'Clear cache'])
        expect(await panel(page).getByRole('button', { name }).getAttribute('aria-disabled'), name).toBe(
          'true',
        );
      await panel(page).locator('button[data-action="cancel-move"]').click();
      await expectText(
        panel(page).locator('[data-role="notice"]'),
        `Move cancelled. The VM images stay in ${from}.`,
      );
      expect(await panel(page).locator('[part~="error"]').count()).toBe(0);
      expect(p.controller.root).toBe(from);
      expect(existsSync(target)).toBe(false);
      expect(errors).toEqual([]);
    } finally {
      await held.release();
    }
    expect(await p.controller.hasCompleteCache()).toBe(true);
  });

  it('the move button is inert while a download runs', async () => {
    const p = await preview({ throttleBytesPerSec: 1_000_000 });
    const { page } = await openPage(browser, p.settingsUrl);
    await waitForState(page, ['empty']);
    await panel(page).getByRole('button', { name: 'Check for updates' }).click();
    await waitForState(page, ['downloading']);
    // While it runs the form shows Cancel and Pause; the location's button stays, inert.
    await expect.poll(() => moveButton(page).getAttribute('aria-disabled')).toBe('true');
    const root = p.controller.root;
    await moveButton(page).click({ force: true });
    // Had the click reached the main side, its refusal (a download runs: ERR_LOCK) would show in an error box.
    await new Promise((r) => setTimeout(r, 300));
    expect(await panel(page).locator('[part~="error"]').count()).toBe(0);
    expect(p.controller.root).toBe(root);
    await p.controller.cancel();
  });
});
