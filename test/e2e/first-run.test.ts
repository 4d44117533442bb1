// The first-run screen in real Chromium, against the real engine through the
// preview's WebSocket bridge: the whole download, its verification step per
// artifact, failures in words with Retry, and Cancel then Retry resuming.
import type { Browser, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { ERROR_WORDS } from '../../contract/errors.js';
import { demoArtifacts } from '../../server/index.js';
import {
  browserSuite,
  catchContinue,
  continued,
  expectCount,
  expectText,
  expectVisible,
  manifestEntry,
  openPage,
  panelState,
  preview,
  recordedRowStates,
  recordRowStates,
  screenshotPath,
  textOf,
  useBrowser,
  waitForState,
} from './harness.js';

let browser: Browser;

function overall(page: Page): Promise<number> {
  return page.locator('vm-cache-panel [role=progressbar]').first().getAttribute('aria-valuenow').then(Number);
}

function row(page: Page, key: string) {
  return page.locator(`vm-cache-panel li.artifact[data-key="${key}"]`);
}

async function rowPercent(page: Page, key: string): Promise<number> {
  return Number(await row(page, key).getByRole('progressbar').getAttribute('aria-valuenow'));
}

async function expectVerified(page: Page, key: string, sha256: string): Promise<void> {
  await expectText(row(page, key).locator('.state'), `✓ sha256 verified ${sha256.slice(0, 12)}`);
}

function button(page: Page, name: string) {
  return page.locator('vm-cache-panel').getByRole('button', { name, exact: true });
}

browserSuite('first-run screen (Chromium)', () => {
  useBrowser((b) => {
    browser = b;
  });

  it('runs the launch sync to completion, shows each artifact verified, and hands over with Continue', async () => {
    // The demo's agents at a tenth of their size (this host's arch only): the
    // same screens as `npm run preview`, in a fraction of the test time.
    const p = await preview({
      artifacts: demoArtifacts()
        .filter((a) => a.arch === 'x64')
        .map((a) => ({ ...a, sizeBytes: Math.round(a.sizeBytes / 10) })),
      throttleBytesPerSec: 6_000_000,
    });
    const { page, errors } = await openPage(browser, p.firstRunUrl, {
      viewport: { width: 900, height: 600 },
    });
    await waitForState(page, ['empty']);
    await recordRowStates(page);

    void p.controller.prefetch(); // what the app does on launch
    await waitForState(page, ['downloading']);
    await expect.poll(() => overall(page), { timeout: 15_000, interval: 50 }).toBeGreaterThanOrEqual(30);
    await expectText(page.locator('vm-cache-panel .stats'), /MB\/s/);
    await expectText(page.locator('vm-cache-panel .stats'), /left/);
    await expectVisible(button(page, 'Cancel'));
    await page.screenshot({ path: screenshotPath('first-run-downloading.png'), fullPage: true });

    await waitForState(page, ['done']);
    const openclaw = manifestEntry(p, 'openclaw');
    const hermes = manifestEntry(p, 'hermes');
    await expectVerified(page, openclaw.key, openclaw.sha256);
    await expectVerified(page, hermes.key, hermes.sha256);
    expect(await overall(page)).toBe(100);
    await expectText(page.locator('vm-cache-panel [role=status]'), /VM images are ready|sha256 verified/);
    await expectVisible(button(page, 'Continue'));
    await page.screenshot({ path: screenshotPath('first-run-done.png'), fullPage: true });

    const seen = await recordedRowStates(page);
    console.log(`first-run: row states seen: ${JSON.stringify(seen)}`);
    for (const { key, sha256 } of [openclaw, hermes]) {
      expect(seen[key]).toContain('Downloading');
      expect(seen[key]!.at(-1)).toBe(`✓ sha256 verified ${sha256.slice(0, 12)}`);
    }

    await catchContinue(page);
    await button(page, 'Continue').click();
    expect(await continued(page)).toBe(true);
    expect(errors).toEqual([]);
  });

  it('ignores the second click of a double-click on Download (it would land on Cancel)', async () => {
    const p = await preview();
    const { page, errors } = await openPage(browser, p.firstRunUrl);
    const box = (await button(page, 'Download').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down({ clickCount: 1 });
    await page.mouse.up({ clickCount: 1 });
    // A person's double-click: by the second press, Cancel has taken Download's place.
    await expectVisible(button(page, 'Cancel'));
    await page.mouse.down({ clickCount: 2 });
    await page.mouse.up({ clickCount: 2 });
    await waitForState(page, ['done', 'cancelled']);
    expect(await panelState(page)).toBe('done');
    expect(errors).toEqual([]);
  });

  it('shows a refused download (HTTP 503) in words, then Retry succeeds', async () => {
    const p = await preview();
    p.armFault('fail-once');
    const { page, errors } = await openPage(browser, p.firstRunUrl);
    await button(page, 'Download').click();
    await waitForState(page, ['failed']);
    const error = page.locator('vm-cache-panel .error');
    await expectText(error.locator('.words'), ERROR_WORDS.ERR_DOWNLOAD_HTTP);
    await expectText(error.locator('.message'), /HTTP 503/);
    await expectText(page.locator('vm-cache-panel [role=status]'), /Download failed\./);
    await expectCount(button(page, 'Cancel'), 0);

    await button(page, 'Retry').click();
    await waitForState(page, ['done']);
    await expectCount(error, 0);
    const { key, sha256 } = manifestEntry(p, 'openclaw');
    await expectVerified(page, key, sha256);
    expect(errors).toEqual([]);
  });

  it('discards a corrupt download (sha256 mismatch), says so, and Retry downloads it again', async () => {
    const p = await preview();
    const key = p.armFault('corrupt');
    const { page, errors } = await openPage(browser, p.firstRunUrl);
    await button(page, 'Download').click();
    await waitForState(page, ['failed']);
    await expectText(page.locator('vm-cache-panel .error .words'), ERROR_WORDS.ERR_SHA256_MISMATCH);
    await expectText(page.locator('vm-cache-panel .error .message'), /sha256 mismatch/);

    await button(page, 'Retry').click();
    await waitForState(page, ['done']);
    await expectVerified(page, key, manifestEntry(p, 'openclaw').sha256);
    expect(p.artifactServer!.requests.filter((r) => r.path === key)).toHaveLength(2);
    expect(errors).toEqual([]);
  });

  it('cancels mid-download, then Retry resumes: the second attempt transfers only the remainder', async () => {
    const p = await preview({ throttleBytesPerSec: 1_500_000 });
    const { key, sizeBytes, sha256 } = manifestEntry(p, 'openclaw');
    const { page, errors } = await openPage(browser, p.firstRunUrl);
    await button(page, 'Download').click();
    await expect
      .poll(() => rowPercent(page, key), { timeout: 15_000, interval: 50 })
      .toBeGreaterThanOrEqual(55);
    await button(page, 'Cancel').click();
    await waitForState(page, ['cancelled']);
    await expectText(page.locator('vm-cache-panel .error .words'), ERROR_WORDS.ERR_ABORTED);
    await expectText(page.locator('vm-cache-panel [data-role=phase]'), 'Download cancelled.');
    const first = p.artifactServer!.bytesServed(key);
    expect(first).toBeLessThan(sizeBytes);

    await button(page, 'Retry').click();
    await waitForState(page, ['done']);
    await expectVerified(page, key, sha256);
    const second = p.artifactServer!.bytesServed(key) - first;
    console.log(
      `cancel/resume: ${key}: ${first} bytes before cancel, ${second} after Retry (${((second / sizeBytes) * 100).toFixed(0)} % of ${sizeBytes})`,
    );
    expect(second).toBeGreaterThan(0);
    expect(second).toBeLessThan(sizeBytes * 0.6);
    const resumed = p.artifactServer!.requests.filter((r) => r.path === key).at(-1);
    expect(resumed?.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(errors).toEqual([]);
  });

  it('shows a stalled download as stalled, fails it in words, and Retry resumes it', async () => {
    const p = await preview({ stallTimeoutSeconds: 1.5 });
    const key = p.armFault('stall'); // the server stops at 40 % and holds the connection open
    const { sizeBytes } = manifestEntry(p, 'openclaw');
    const { page, errors } = await openPage(browser, p.firstRunUrl);
    await recordRowStates(page);
    await button(page, 'Download').click();
    await waitForState(page, ['failed']);
    await expectText(page.locator('vm-cache-panel .error .words'), ERROR_WORDS.ERR_STALLED);
    expect((await recordedRowStates(page))[key]).toContain('Stalled, waiting for data…');
    const first = p.artifactServer!.bytesServed(key);

    await button(page, 'Retry').click();
    await waitForState(page, ['done']);
    const second = p.artifactServer!.bytesServed(key) - first;
    expect(second).toBeLessThan(sizeBytes * 0.65);
    expect(errors).toEqual([]);
  });

  it('updates by delta (?fault=delta): says what it reuses from the cached version, fetches only the changed ranges, verifies', async () => {
    // The page load brings the cache to v1 and publishes v2 with its chunk
    // index; the launch sync is v2's, its ranges dripping (preview/delta.ts).
    const p = await preview({ small: true, autoStart: true });
    const { page, errors } = await openPage(browser, `${p.firstRunUrl}?fault=delta`);
    const { key, sha256, sizeBytes } = manifestEntry(p, 'openclaw');
    const delta = row(page, key).locator('.delta');
    await expectText(delta, /^Reused \S+ [kM]B from the cached version, downloading \S+ [kM]B$/);
    expect(await panelState(page)).toBe('downloading');
    await page.screenshot({ path: screenshotPath('first-run-delta.png'), fullPage: true });

    await waitForState(page, ['done']);
    await expectVerified(page, key, sha256);
    await expectText(delta, /^Reused \S+ [kM]B from the cached version, downloaded \S+ [kM]B$/);
    const [, reused, fetched] = /^Reused (.+) from the cached version, downloaded (.+)$/.exec(
      (await textOf(delta))!,
    )!;

    // What the server sent for v2: byte ranges only, far less than the tarball, as the line said.
    const server = p.artifactServer!;
    const requests = server.requests.filter((r) => r.path === key);
    const served = server.bytesServed(key);
    console.log(
      `delta: ${key}: "${await textOf(delta)}"; the server sent ${served} of ${sizeBytes} bytes in ${requests.length} ranges`,
    );
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((r) => r.status === 206 && r.range !== undefined)).toBe(true);
    expect(served).toBeLessThan(sizeBytes * 0.25);
    // Sizes on screen are rounded to three figures: within 1 %.
    expect(Math.abs(bytesIn(fetched!) - served)).toBeLessThanOrEqual(served * 0.01);
    expect(Math.abs(bytesIn(reused!) + served - sizeBytes)).toBeLessThanOrEqual(sizeBytes * 0.01);
    expect(errors).toEqual([]);
  });
});

/** "5.22 MB" as bytes (three significant figures, as the panel shows sizes). */
function bytesIn(text: string): number {
  const [, value, unit] = /^([\d.]+) (B|kB|MB|GB)$/.exec(text)!;
  return Number(value) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[unit as 'B' | 'kB' | 'MB' | 'GB'];
}
