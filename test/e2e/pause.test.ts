// Pause and resume in real Chromium, against the real engine through the
// preview's bridge: Pause mid-download ends the sync as paused ("Paused — X
// of Y", the bar kept at its fill, Resume as the one primary action), the
// artifact server sends nothing while paused and holds no response open, a
// window opened meanwhile sees the paused state too, and Resume goes on from
// the bytes kept to sha256 verified. In German too; a real Cancel still says
// cancelled and Retry.
import type { Browser, Locator, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import type { SyncProgress } from '../../contract/progress.js';
import type { Preview } from '../../preview/index.js';
import { formatBytes } from '../../renderer/panel/format.js';
import { GERMAN_WORDS } from '../../renderer/panel/words-de.js';
import { demoArtifacts } from '../../server/index.js';
import {
  axeSerious,
  browserSuite,
  expectCount,
  expectText,
  expectVisible,
  focusedInPanel,
  manifestEntry,
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

function panel(page: Page): Locator {
  return page.locator('vm-cache-panel');
}

function button(page: Page, name: string): Locator {
  return panel(page).getByRole('button', { name, exact: true });
}

function overallBar(page: Page): Locator {
  return panel(page).locator('[role=progressbar]').first();
}

function overall(page: Page): Promise<number> {
  return overallBar(page).getAttribute('aria-valuenow').then(Number);
}

function row(page: Page, key: string): Locator {
  return page.locator(`vm-cache-panel li.artifact[data-key="${key}"]`);
}

/** Names of the action buttons, in order. */
async function actionNames(page: Page): Promise<string[]> {
  return (await panel(page).locator('.actions button').allTextContents()).map((s) => s.trim());
}

/** Every body byte the artifact server has flushed, and whether any response is still open. */
function serverTraffic(p: Preview): { bytes: number; open: number } {
  const server = p.artifactServer!;
  return { bytes: server.bytesServed(), open: server.requests.filter((r) => !r.closed).length };
}

/** The engine's own view of the root: the paused snapshot once paused. */
function engineProgress(p: Preview): SyncProgress {
  const progress = p.controller.currentProgress();
  if (!progress) throw new Error('no progress for the root');
  return progress;
}

/** Presses Download and waits until the overall bar has reached `percent`. */
async function downloadTo(page: Page, percent: number, downloadName = 'Download'): Promise<void> {
  await button(page, downloadName).click();
  await waitForState(page, ['downloading']);
  await expect.poll(() => overall(page), { timeout: 20_000, interval: 25 }).toBeGreaterThanOrEqual(percent);
}

browserSuite('pause and resume (Chromium)', () => {
  useBrowser((b) => {
    browser = b;
  });

  it('pauses mid-download (nothing received while paused), shows it in every window, and resumes to sha256 verified', async () => {
    // The demo's agents at a tenth of their size (15.3 MB), at 3 MB/s: about 5 s in all.
    const p = await preview({
      artifacts: demoArtifacts()
        .filter((a) => a.arch === 'x64')
        .map((a) => ({ ...a, sizeBytes: Math.round(a.sizeBytes / 10) })),
      throttleBytesPerSec: 3 * MB,
      limitRate: 3 * MB,
    });
    const openclaw = manifestEntry(p, 'openclaw');
    const hermes = manifestEntry(p, 'hermes');
    const images = [openclaw, hermes];
    const { page, errors } = await openPage(browser, p.firstRunUrl, {
      viewport: { width: 900, height: 600 },
    });
    await waitForState(page, ['empty']);

    await downloadTo(page, 30);
    // Pause sits beside Cancel during the download, and works from the keyboard.
    expect(await actionNames(page)).toEqual(['Cancel', 'Pause']);
    expect(await button(page, 'Pause').getAttribute('part')).toBe('button');
    await button(page, 'Pause').focus();
    await page.keyboard.press('Enter');
    await waitForState(page, ['paused']);

    // The panel's words are the engine's paused snapshot, in the panel's sizes.
    const paused = engineProgress(p);
    expect(paused).toMatchObject({ phase: 'cancelled', paused: true });
    expect(paused.receivedBytes).toBeGreaterThan(0);
    expect(paused.receivedBytes).toBeLessThan(paused.totalBytes);
    const pausedLine = `Paused — ${formatBytes(paused.receivedBytes)} of ${formatBytes(paused.totalBytes)}`;
    await expectText(panel(page).locator('[data-role=phase]'), pausedLine);
    await expectText(page.locator('vm-cache-panel [role=status]'), pausedLine);
    // Resume is the one action, primary, and has the focus Pause had; no cancel note, no Retry.
    expect(await actionNames(page)).toEqual(['Resume']);
    expect(await button(page, 'Resume').getAttribute('part')).toBe('button primary');
    await expect.poll(() => focusedInPanel(page)).toBe('Resume');
    expect(await panel(page).locator('.error').count()).toBe(0);
    // The bar stays at its fill, in the paused look.
    const percent = await overall(page);
    expect(percent).toBe(Math.floor((paused.receivedBytes / paused.totalBytes) * 100));
    expect(percent).toBeGreaterThanOrEqual(30);
    expect(await overallBar(page).locator('.fill').getAttribute('part')).toBe('progress-fill paused');
    for (const a of paused.artifacts) {
      if (a.receivedBytes > 0 && a.receivedBytes < a.sizeBytes) {
        await expectText(row(page, a.key).locator('.state'), 'Paused');
      }
    }

    // Nothing is received while paused: the server's byte counter stands still, no response is open.
    await new Promise((r) => setTimeout(r, 200));
    const before = serverTraffic(p);
    expect(before.open).toBe(0);
    await new Promise((r) => setTimeout(r, 1200));
    expect(serverTraffic(p)).toEqual(before);
    expect(engineProgress(p).receivedBytes).toBe(paused.receivedBytes);
    expect(await overall(page)).toBe(percent);
    expect(await panelState(page)).toBe('paused');
    await page.screenshot({ path: screenshotPath('first-run-paused.png'), fullPage: true });
    expect(await axeSerious(page)).toEqual([]);

    // A window opened while paused sees it too (the settings page), with Resume.
    const other = await openPage(browser, p.settingsUrl);
    await waitForState(other.page, ['paused']);
    await expectText(panel(other.page).locator('[data-role=phase]'), pausedLine);
    await expectVisible(button(other.page, 'Resume'));
    expect(await button(other.page, 'Retry').count()).toBe(0);

    // Resume (Enter on the focused button): from the bytes kept, to sha256 verified.
    const requestsBefore = p.artifactServer!.requests.length;
    const servedBefore = new Map(images.map((i) => [i.key, p.artifactServer!.bytesServed(i.key)]));
    await page.keyboard.press('Enter');
    await waitForState(page, ['downloading']);
    // Focus follows to Pause when it shows again: Enter twice pauses, never cancels.
    await expect.poll(() => focusedInPanel(page), { timeout: 5_000, interval: 25 }).toBe('Pause');
    await waitForState(page, ['done'], 30_000);
    for (const { key, sha256 } of images) {
      await expectText(row(page, key).locator('.state'), `✓ sha256 verified ${sha256.slice(0, 12)}`);
    }
    expect(await overall(page)).toBe(100);
    await expectVisible(button(page, 'Continue'));
    await waitForState(other.page, ['done']);

    // Each image partly downloaded when paused was asked for from a byte past zero, and only its rest came.
    const after = p.artifactServer!.requests.slice(requestsBefore);
    for (const a of paused.artifacts) {
      const asked = after.filter((r) => r.path === a.key && r.method === 'GET');
      const rest = p.artifactServer!.bytesServed(a.key) - servedBefore.get(a.key)!;
      console.log(
        `pause: ${a.key} had ${a.receivedBytes} of ${a.sizeBytes}; after resume ${rest} bytes in ${asked.length} request(s): ${asked.map((r) => r.range ?? 'whole').join(', ')}`,
      );
      if (a.receivedBytes === a.sizeBytes) continue;
      expect(asked.length).toBeGreaterThan(0);
      if (a.receivedBytes > 0) {
        for (const r of asked) expect(r.range).toMatch(/^bytes=[1-9]\d*-/);
      }
      expect(rest).toBeLessThan(a.sizeBytes - a.receivedBytes + 512 * 1024);
    }
    expect(errors).toEqual([]);
    expect(other.errors).toEqual([]);
  });

  it('speaks German when paused, and a real Cancel still says cancelled with Retry', async () => {
    const p = await preview({ locale: 'de', limitRate: 1 * MB });
    const { page, errors } = await openPage(browser, p.firstRunUrl, { locale: 'de-DE' });
    await waitForState(page, ['empty']);
    await downloadTo(page, 20, GERMAN_WORDS.buttons.download);
    expect(await actionNames(page)).toEqual(['Abbrechen', 'Anhalten']);

    await button(page, 'Anhalten').click();
    await waitForState(page, ['paused']);
    const paused = engineProgress(p);
    // "Angehalten – 1,23 MB von 5,13 MB": German decimals, a non-breaking space before the unit.
    const line = `Angehalten – ${formatBytes(paused.receivedBytes, 'de')} von ${formatBytes(paused.totalBytes, 'de')}`;
    expect(line).toMatch(/^Angehalten – \d+(,\d+)?\u00a0MB von 5,13\u00a0MB$/);
    await expectText(panel(page).locator('[data-role=phase]'), line.replace(/\s+/g, ' '));
    expect(await actionNames(page)).toEqual(['Fortsetzen']);
    expect(await panel(page).locator('.stats').count()).toBe(0);
    await expectText(row(page, manifestEntry(p, 'openclaw').key).locator('.state'), 'Angehalten');

    // Resume, then a real cancel: the cancel words and Retry, not the paused ones.
    await button(page, 'Fortsetzen').click();
    await waitForState(page, ['downloading']);
    await expectVisible(button(page, 'Anhalten'));
    await button(page, 'Abbrechen').click();
    await waitForState(page, ['cancelled']);
    expect(p.controller.currentProgress()?.paused).toBeUndefined();
    await expectText(panel(page).locator('[data-role=phase]'), GERMAN_WORDS.phases.cancelled);
    expect(await actionNames(page)).toEqual([GERMAN_WORDS.buttons.retry]);
    await expectCount(panel(page).locator('.error.note'), 1);
    expect(await textOf(panel(page).locator('.stats'))).toMatch(/ von 5,13 MB$/);
    expect(errors).toEqual([]);
  });
});
