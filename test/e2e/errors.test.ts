// Errors with the way on in them, in real Chromium against the real engine
// (issue 17, point 6): each error state reached through the preview's faults
// (a release too big for the disk, a manifest signed with a foreign key, a
// server that drops every connection), its words (disk full: the engine's
// figures and folder, formatted in the page's locale; a refused signature:
// nothing changed; offline: the cached images the app keeps using), exactly
// one primary button, and that pressing it does the right thing: Retry or
// Check again after the fault is gone ends verified, Continue hands over to
// the app (vm-cache-continue).
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { ERROR_WORDS } from '../../contract/errors.js';
import type { SyncProgress } from '../../contract/progress.js';
import type { Preview } from '../../preview/index.js';
import { formatBytes } from '../../renderer/panel/format.js';
import { ENGLISH_WORDS } from '../../renderer/panel/words.js';
import { GERMAN_WORDS } from '../../renderer/panel/words-de.js';
import {
  browserSuite,
  catchContinue,
  continued,
  expectCount,
  expectText,
  focusedInPanel,
  manifestEntry,
  openPage,
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
  return panel(page).locator('.actions').getByRole('button', { name, exact: true });
}

function errorWords(page: Page): Locator {
  return page.locator('vm-cache-panel .error .words');
}

/** Names of the action buttons, in order. */
async function actionNames(page: Page): Promise<string[]> {
  return (await panel(page).locator('.actions button').allTextContents()).map((s) => s.trim());
}

/** The one primary button: exactly one has the class and the part, and it is this one. */
async function expectOnePrimary(page: Page, name: string): Promise<void> {
  await expectCount(panel(page).locator('button.primary'), 1);
  await expectCount(panel(page).locator('button[part~="primary"]'), 1);
  expect(await textOf(panel(page).locator('button.primary'))).toBe(name);
}

/** Every sha256 verified in the rows of the images this host downloads. */
async function expectVerified(page: Page, p: Preview): Promise<void> {
  for (const agent of ['openclaw', 'hermes']) {
    const { key, sha256 } = manifestEntry(p, agent);
    await expectText(
      page.locator(`vm-cache-panel li.artifact[data-key="${key}"] .state`),
      `✓ sha256 verified ${sha256.slice(0, 12)}`,
    );
  }
}

/** The last failed sync the engine reported for the preview's root (what the panel was sent). */
function recordFailures(p: Preview): () => SyncProgress {
  const seen: SyncProgress[] = [];
  const stop = p.controller.watch((e) => {
    if (e.phase === 'failed') seen.push(e);
  });
  return () => {
    stop();
    const last = seen.at(-1);
    if (!last) throw new Error('the engine reported no failed sync');
    return last;
  };
}

/** Whitespace as textOf leaves it (a German size's non-breaking space reads as a space). */
const collapsed = (s: string) => s.replace(/\s+/g, ' ').trim();

/** The E2E images, as the words name them when cached. */
const CACHED_IMAGES = 'openclaw 2026.4.12 (x64) and hermes 1.8.0 (x64), 5.13 MB in all';

/**
 * The first-run page while the app's own sync (a launch sync) fails with
 * `code` and images are cached: `words`, Continue first with `beside` after
 * it, and Continue continues.
 */
async function firstRunOffersContinue(p: Preview, code: string, words: string, beside: string) {
  const first = await openPage(browser, p.firstRunUrl);
  await waitForState(first.page, ['ready']);
  await catchContinue(first.page);
  await expect(p.controller.sync()).rejects.toMatchObject({ code });
  await waitForState(first.page, ['failed']);
  await expectText(errorWords(first.page), words);
  await expectOnePrimary(first.page, 'Continue');
  expect(await actionNames(first.page)).toEqual(['Continue', beside]);
  await button(first.page, 'Continue').click();
  await expect.poll(() => continued(first.page), { timeout: 5_000, interval: 50 }).toBe(true);
  return first;
}

browserSuite('error states and their actions (Chromium)', () => {
  useBrowser((b) => {
    browser = b;
  });

  it('disk full: how much space is needed and where, in English and German; one primary Retry that ends verified once there is room', async () => {
    const p = await preview();
    await p.setFault('disk-full');
    const { page, errors } = await openPage(browser, p.firstRunUrl, {
      viewport: { width: 900, height: 640 },
    });
    const failure = recordFailures(p);
    await panel(page).getByRole('button', { name: 'Download', exact: true }).click();
    await waitForState(page, ['failed']);

    const detail = failure().error?.detail;
    expect(detail).toMatchObject({ kind: 'disk-space', path: path.join(p.root, 'cache') });
    if (detail?.kind !== 'disk-space') throw new Error('no disk-space detail');
    // A release of 1 TiB (the manifest's most) plus the other image and a margin of 1 %.
    expect(formatBytes(detail.neededBytes)).toBe('1.11 TB');
    expect(detail.freeBytes).toBeLessThan(detail.neededBytes);
    const words = ENGLISH_WORDS.errorStates.diskFull(
      formatBytes(detail.neededBytes),
      formatBytes(detail.freeBytes),
      formatBytes(detail.neededBytes - detail.freeBytes),
      detail.path,
    );
    await expectText(errorWords(page), words);
    expect(words).toMatch(
      /^Not enough disk space: the VM images need 1\.11 TB free on \/.+\/cache, which has /,
    );
    // The folder is isolated left to right inside the sentence.
    await expectText(page.locator('vm-cache-panel .error .words bdi.path[dir=ltr]'), detail.path);
    await expectText(page.locator('vm-cache-panel .error .message'), /^disk full at .+: 1\.11 TB needed/);
    expect(await page.locator('vm-cache-panel .error').getAttribute('data-error-state')).toBe('disk-full');
    await expectOnePrimary(page, 'Retry');
    expect(await actionNames(page)).toEqual(['Retry']);
    // Announced with the figures too, not the general sentence.
    await expectText(
      page.locator('vm-cache-panel [role=status]'),
      /^Download failed\. Not enough disk space: /,
    );
    await page.screenshot({ path: screenshotPath('error-disk-full.png'), fullPage: true });

    // The same state in German: the figures with a decimal comma, the words the German table's.
    const de = await openPage(browser, p.firstRunUrl, { locale: 'de-DE' });
    const failureDe = recordFailures(p);
    await panel(de.page).getByRole('button', { name: 'Herunterladen', exact: true }).click();
    await waitForState(de.page, ['failed']);
    const d = failureDe().error?.detail;
    if (d?.kind !== 'disk-space') throw new Error('no disk-space detail');
    const wordsDe = GERMAN_WORDS.errorStates.diskFull(
      formatBytes(d.neededBytes, 'de'),
      formatBytes(d.freeBytes, 'de'),
      formatBytes(d.neededBytes - d.freeBytes, 'de'),
      d.path,
    );
    await expectText(errorWords(de.page), collapsed(wordsDe));
    expect(collapsed(wordsDe)).toMatch(
      /^Nicht genug Speicherplatz: Die VM-Images brauchen 1,11 TB freien Speicher auf /,
    );
    await expectOnePrimary(de.page, 'Erneut versuchen');
    expect(de.errors).toEqual([]);

    // Space freed (the release withdrawn): Retry goes through to sha256 verified.
    await p.setFault(undefined);
    await button(page, 'Retry').click();
    await waitForState(page, ['done'], 30_000);
    await expectCount(page.locator('vm-cache-panel .error'), 0);
    await expectVerified(page, p);
    expect(errors).toEqual([]);
  });

  it('a manifest signed with another key, nothing cached: the publisher’s key does not match, nothing changed; one primary Check again', async () => {
    const p = await preview();
    await p.setFault('wrong-key');
    const { page, errors } = await openPage(browser, p.firstRunUrl);
    await panel(page).getByRole('button', { name: 'Download', exact: true }).click();
    await waitForState(page, ['failed']);
    await expectText(errorWords(page), ERROR_WORDS.ERR_SIGNATURE);
    expect(ERROR_WORDS.ERR_SIGNATURE).toMatch(/does not match the publisher’s key/);
    expect(ERROR_WORDS.ERR_SIGNATURE).toMatch(/Nothing was changed/);
    await expectText(page.locator('vm-cache-panel .error .message'), /not signed by the configured key/);
    await expectOnePrimary(page, 'Check again');
    expect(await actionNames(page)).toEqual(['Check again']);
    // Refused before anything was written: still no cache.
    expect((await p.controller.getStatus()).cached).toBeNull();

    await p.setFault(undefined);
    await button(page, 'Check again').click();
    await waitForState(page, ['done'], 30_000);
    await expectVerified(page, p);
    expect(errors).toEqual([]);
  });

  it('a manifest signed with another key, images cached: they stay in use; first run offers Continue, settings Check again', async () => {
    const p = await preview();
    await p.controller.sync();
    await p.setFault('wrong-key');
    const signatureWords = ENGLISH_WORDS.errorStates.signatureCached(CACHED_IMAGES);
    expect(signatureWords).toBe(
      `The manifest’s signature does not match the publisher’s key, so it was refused and nothing was changed. The app keeps using the VM images it has: ${CACHED_IMAGES}.`,
    );

    // Settings: Check for updates from the keyboard; focus stays in the panel, on the new primary.
    const settings = await openPage(browser, p.settingsUrl);
    await waitForState(settings.page, ['ready']);
    await button(settings.page, 'Check for updates').focus();
    await settings.page.keyboard.press('Enter');
    await waitForState(settings.page, ['failed']);
    await expectText(errorWords(settings.page), signatureWords);
    await expectOnePrimary(settings.page, 'Check again');
    expect(await actionNames(settings.page)).toEqual(['Check again', 'Verify', 'Clear cache']);
    expect(await focusedInPanel(settings.page)).toBe('Check again');

    // First run, while the app's own sync fails (a launch sync): Continue first, Check again beside it.
    const first = await firstRunOffersContinue(p, 'ERR_SIGNATURE', signatureWords, 'Check again');

    // The publisher's key again: Check again finds the cache current.
    await p.setFault(undefined);
    await button(settings.page, 'Check again').click();
    await expectText(settings.page.locator('vm-cache-panel [data-role=notice]'), 'Up to date.');
    await expectCount(settings.page.locator('vm-cache-panel .error'), 0);
    expect(settings.errors).toEqual([]);
    expect(first.errors).toEqual([]);
  });

  it('offline with images cached: the app keeps working with them; settings offers Retry, first run Continue', async () => {
    const p = await preview();
    await p.controller.sync();
    await p.setFault('offline');
    const offlineWords = `Could not reach the image server. The app keeps working with the VM images it has: ${CACHED_IMAGES}. Retry looks for updates once you are online.`;

    const settings = await openPage(browser, p.settingsUrl);
    await waitForState(settings.page, ['ready']);
    await button(settings.page, 'Check for updates').click();
    await waitForState(settings.page, ['failed']);
    await expectText(errorWords(settings.page), offlineWords);
    await expectText(
      settings.page.locator('vm-cache-panel .error .message'),
      /^manifest fetch failed: network error/,
    );
    expect(await settings.page.locator('vm-cache-panel .error').getAttribute('data-code')).toBe(
      'ERR_MANIFEST_FETCH',
    );
    await expectOnePrimary(settings.page, 'Retry');
    expect(await actionNames(settings.page)).toEqual(['Retry', 'Verify', 'Clear cache']);

    const first = await firstRunOffersContinue(p, 'ERR_MANIFEST_FETCH', offlineWords, 'Retry');

    // Online again: Retry finds the cache current.
    await p.setFault(undefined);
    await button(settings.page, 'Retry').click();
    await expectText(settings.page.locator('vm-cache-panel [data-role=notice]'), 'Up to date.');
    expect(settings.errors).toEqual([]);
    expect(first.errors).toEqual([]);
  });

  it('offline with nothing cached: the download needs a connection; one primary Retry resumes it once online', async () => {
    const p = await preview();
    await p.setFault('offline');
    const { page, errors } = await openPage(browser, p.firstRunUrl);
    await panel(page).getByRole('button', { name: 'Download', exact: true }).click();
    await waitForState(page, ['failed']);
    await expectText(
      errorWords(page),
      'Could not reach the image server. The download needs an internet connection; once you are online, Retry resumes it where it stopped.',
    );
    await expectOnePrimary(page, 'Retry');
    expect(await actionNames(page)).toEqual(['Retry']);

    await p.setFault(undefined);
    await button(page, 'Retry').click();
    await waitForState(page, ['done'], 30_000);
    await expectVerified(page, p);
    expect(errors).toEqual([]);
  });
});
