// Plumbing for the browser tests: find the system Chromium (never a downloaded
// one), skip politely without it (fail under CI), build the renderer once per
// file, start previews against small throttled artifacts, and read the panel.
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContextOptions, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRenderer } from '../../preview/build.js';
import { type Preview, type PreviewOptions, startPreview } from '../../preview/index.js';
import type { GeneratedArtifact } from '../../server/index.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

const BROWSER_NAMES = ['chromium', 'chromium-browser', 'google-chrome'];

const BAD_CHROME_PATH = process.env.CHROME_PATH?.trim()
  ? ` (CHROME_PATH=${process.env.CHROME_PATH.trim()} is not an executable file)`
  : '';

const NOT_FOUND = `no Chromium found${BAD_CHROME_PATH}; install it with \`apt-get install chromium\` or set CHROME_PATH`;

export const SKIP_LINE = `e2e skipped: ${NOT_FOUND}`;

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** CHROME_PATH, else chromium, chromium-browser, google-chrome on PATH. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env.CHROME_PATH?.trim();
  if (fromEnv) return isExecutable(fromEnv) ? fromEnv : undefined;
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const name of BROWSER_NAMES) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

export const CHROME = findChromium();

/** One line per test run, not one per file: the first worker to get here prints it. */
function announceSkipOnce(): void {
  const marker = path.join(os.tmpdir(), `vm-cache-e2e-skip-${process.ppid}`);
  try {
    if (existsSync(marker) && Date.now() - statSync(marker).mtimeMs < 10 * 60_000) return;
    writeFileSync(marker, String(Date.now()));
  } catch {
    // Cannot mark: print anyway; a duplicate line beats a silent skip.
  }
  console.log(SKIP_LINE);
}

/**
 * describe() when Chromium is there; without it, a skip (and one line saying
 * how to get a browser), except under CI, where a missing browser fails.
 */
export function browserSuite(name: string, body: () => void): void {
  if (CHROME) {
    describe(name, body);
  } else if (process.env.CI) {
    describe(name, () => {
      it('needs Chromium', () => {
        throw new Error(`e2e cannot run under CI: ${NOT_FOUND}`);
      });
    });
  } else {
    announceSkipOnce();
    describe.skip(name, body);
  }
}

export const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  // The network here is closed: without these Chromium floods refused connections.
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser(): Promise<Browser> {
  if (!CHROME) throw new Error(NOT_FOUND);
  return chromium.launch({ executablePath: CHROME, args: LAUNCH_ARGS, headless: true });
}

/** Launches Chromium before the suite's tests (handing it to `use`) and closes it after them. */
export function useBrowser(use: (browser: Browser) => void): void {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchBrowser();
    use(browser);
  });
  afterAll(async () => {
    await browser?.close();
  });
}

/** Collects every page error and console error, so a test can assert there were none. */
export async function openPage(
  browser: Browser,
  url: string,
  options: BrowserContextOptions = {},
): Promise<{ page: Page; errors: string[] }> {
  // en-US unless a test asks for another: the app's pages follow the browser's language.
  const context = await browser.newContext({
    viewport: { width: 1000, height: 760 },
    locale: 'en-US',
    ...options,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  await page.locator('vm-cache-panel section').waitFor();
  return { page, errors };
}

const MB = 1000 * 1000;

/** x64 only is downloaded (rawHostArch x64); the arm64 entries show the arch filter works. */
export const E2E_ARTIFACTS: GeneratedArtifact[] = [
  { agent: 'openclaw', version: '2026.4.12', arch: 'x64', sizeBytes: 3 * MB + 73_219 },
  { agent: 'openclaw', version: '2026.4.12', arch: 'arm64', sizeBytes: 1_000 },
  { agent: 'hermes', version: '1.8.0', arch: 'x64', sizeBytes: 2 * MB + 55_871 },
  { agent: 'hermes', version: '1.8.0', arch: 'arm64', sizeBytes: 1_000 },
];

let rendererDir: Promise<string> | undefined;
const opened: Preview[] = [];

afterAll(async () => {
  await Promise.all(opened.splice(0).map((p) => p.close()));
});

/** Everything the renderer build reads from this repo: its sources, the contract, the config, the lockfile. */
async function rendererInputsHash(): Promise<string> {
  const hash = createHash('sha256');
  const files: string[] = [];
  for (const dir of ['renderer', 'contract']) {
    for (const entry of await readdir(path.join(REPO, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) files.push(path.join(entry.parentPath, entry.name));
    }
  }
  files.push(
    path.join(REPO, 'preview/vite.config.ts'),
    path.join(REPO, 'scripts/vite-configs.ts'),
    path.join(REPO, 'package-lock.json'),
  );
  for (const file of files.sort()) hash.update(`${path.relative(REPO, file)}\0`).update(await readFile(file));
  return hash.digest('hex').slice(0, 16);
}

const RENDERER_CACHE_PREFIX = 'vm-cache-e2e-renderer-';

/**
 * The preview build of the renderer, shared by the e2e files of a run (and
 * later runs) through a folder named by the hash of its inputs: a build takes
 * a couple of seconds, and every file would otherwise repeat it. A build lands
 * in a private folder first and is renamed into place, so a half-written
 * build is never used, even with files running in parallel.
 */
export function builtRenderer(): Promise<string> {
  rendererDir ??= (async () => {
    const dir = path.join(os.tmpdir(), `${RENDERER_CACHE_PREFIX}${await rendererInputsHash()}`);
    if (existsSync(path.join(dir, 'first-run.html'))) return dir;
    const staging = `${dir}.${process.pid}.tmp`;
    await buildRenderer(staging);
    try {
      await rename(staging, dir);
    } catch {
      await rm(staging, { recursive: true, force: true }); // another file's build won the race
    }
    await pruneOldBuilds(dir);
    return dir;
  })();
  return rendererDir;
}

/** Builds for other (older) sources, left by earlier runs, untouched for an hour. */
async function pruneOldBuilds(keep: string): Promise<void> {
  for (const name of await readdir(os.tmpdir()).catch(() => [] as string[])) {
    const full = path.join(os.tmpdir(), name);
    if (!name.startsWith(RENDERER_CACHE_PREFIX) || full === keep) continue;
    const st = await stat(full).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > 3_600_000) await rm(full, { recursive: true, force: true });
  }
}

/** A preview on the real engine, a real temp root and the artifact server: closed after the file. */
export async function preview(options: PreviewOptions = {}): Promise<Preview> {
  const p = await startPreview({
    rendererDir: await builtRenderer(),
    artifacts: E2E_ARTIFACTS,
    throttleBytesPerSec: 4 * MB,
    rawHostArch: 'x64',
    autoStart: false,
    retries: 0,
    ...options,
  });
  opened.push(p);
  return p;
}

export function manifestEntry(
  p: Preview,
  agent: string,
  arch = 'x64',
): { key: string; sha256: string; sizeBytes: number } {
  const agents = p.artifactServer!.manifest.agents as Record<
    string,
    { tarballs: Record<string, { key: string; sha256: string; sizeBytes: number }> }
  >;
  return agents[agent]!.tarballs[arch]!;
}

// --- reading the panel ---------------------------------------------------

/** The panel's overall state: a sync phase, or ready / empty / loading. */
export function panelState(page: Page): Promise<string | null> {
  return page.locator('vm-cache-panel section').getAttribute('data-state');
}

export async function waitForState(page: Page, states: string[], timeout = 20_000): Promise<string> {
  await expect
    .poll(() => panelState(page), { timeout, interval: 50 })
    .toSatisfy((s: string | null) => s !== null && states.includes(s));
  return (await panelState(page))!;
}

// Code passed to evaluate() runs in the page. This tsconfig has Node types and
// no DOM lib, so page code reaches window and document through the element
// Playwright hands it (host.ownerDocument.defaultView), never a bare global.

/** The panel element. */
export function panelHost(page: Page): Locator {
  return page.locator('vm-cache-panel');
}

/**
 * Records, inside the page, every state text each artifact row shows (polled
 * every animation frame), so a test can say which verification steps it saw.
 */
export async function recordRowStates(page: Page): Promise<void> {
  await panelHost(page).evaluate((host) => {
    const win = host.ownerDocument.defaultView!;
    const seen: Record<string, string[]> = {};
    Object.assign(win, { __rowStates: seen });
    const tick = () => {
      for (const row of host.shadowRoot!.querySelectorAll('li.artifact')) {
        const key = row.getAttribute('data-key') ?? '?';
        const text = row.querySelector('.state')?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
        const list = seen[key] ?? [];
        seen[key] = list;
        if (list.at(-1) !== text) list.push(text);
      }
      win.requestAnimationFrame(tick);
    };
    tick();
  });
}

export function recordedRowStates(page: Page): Promise<Record<string, string[]>> {
  return panelHost(page).evaluate((host) => {
    // What recordRowStates left on the window (defaultView is `any` here: this tsconfig has no DOM lib).
    const win: { __rowStates: Record<string, string[]> } = host.ownerDocument.defaultView;
    return win.__rowStates;
  });
}

/** Text of the focused element inside the panel (or null when focus is elsewhere). */
export function focusedInPanel(page: Page): Promise<string | null> {
  return panelHost(page).evaluate((host) => {
    const el = host.shadowRoot?.activeElement;
    return el ? (el.textContent ?? '').trim() : null;
  });
}

/**
 * Stops `vm-cache-continue` before main.ts sees it (it would close the window)
 * and remembers that it fired; read it back with continued().
 */
export async function catchContinue(page: Page): Promise<void> {
  await panelHost(page).evaluate((host) => {
    const win = host.ownerDocument.defaultView!;
    win.addEventListener(
      'vm-cache-continue',
      (event: { stopImmediatePropagation(): void }) => {
        Object.assign(win, { __continued: true });
        event.stopImmediatePropagation();
      },
      { capture: true },
    );
  });
}

export function continued(page: Page): Promise<boolean> {
  return panelHost(page).evaluate((host) => {
    // What catchContinue's listener left on the window (defaultView is `any` here: no DOM lib).
    const win: { __continued?: boolean } = host.ownerDocument.defaultView;
    return win.__continued === true;
  });
}

/**
 * Where screenshots go: out/screenshots/ on every run, and the committed
 * docs/img/ only with UPDATE_SCREENSHOTS=1, so a test run leaves the work tree
 * clean (the dates and paths they show change on every run).
 */
export function screenshotPath(name: string): string {
  const dir = process.env.UPDATE_SCREENSHOTS
    ? path.join(REPO, 'docs', 'img')
    : path.join(REPO, 'out', 'screenshots');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

const AXE_SOURCE = (): string => readFileSync(path.join(REPO, 'node_modules/axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown; failureSummary?: string }>;
}

/**
 * Runs axe-core in the page (evaluated through the DevTools protocol, which
 * the page's CSP does not govern) and returns the serious/critical violations.
 */
export async function axeSerious(page: Page): Promise<AxeViolation[]> {
  const html = page.locator('html');
  const hasAxe = await html.evaluate((el) => 'axe' in el.ownerDocument.defaultView!);
  if (!hasAxe) await page.evaluate(AXE_SOURCE());
  const violations = await html.evaluate(async (el) => {
    type Axe = { run(context: unknown, options: unknown): Promise<{ violations: unknown[] }> };
    // The axe-core script evaluated above defines window.axe (defaultView is `any` here: no DOM lib).
    const { axe }: { axe: Axe } = el.ownerDocument.defaultView;
    const result = await axe.run(el.ownerDocument, { resultTypes: ['violations'] });
    return result.violations;
  });
  return (violations as AxeViolation[]).filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * Presses Download (whatever its words), waits until the overall bar reaches
 * `percent`, and presses Cancel: a still scene with partly filled bars, the
 * rows "Paused" and the cancel note, for measuring and screenshots.
 */
export async function cancelPartWay(page: Page, percent = 25): Promise<void> {
  await page.locator('vm-cache-panel button[data-action="download"]').click();
  await expect
    .poll(
      async () =>
        Number(await page.locator('vm-cache-panel [role=progressbar]').first().getAttribute('aria-valuenow')),
      { timeout: 15_000, interval: 25 },
    )
    .toBeGreaterThanOrEqual(percent);
  await page.locator('vm-cache-panel button[data-action="cancel"]').click();
  await waitForState(page, ['cancelled']);
}

/**
 * Adds a stylesheet to the page as a host app's own would be. A constructed
 * sheet (adoptedStyleSheets): the pages' CSP (style-src 'self') refuses an
 * inline <style>, and a host ships its CSS as a file anyway.
 */
export async function addHostStyles(page: Page, cssText: string): Promise<void> {
  await page.locator('html').evaluate((html, text) => {
    // CSSStyleSheet is the page's (defaultView is `any` here: no DOM lib).
    const win = html.ownerDocument.defaultView;
    const sheet = new win.CSSStyleSheet();
    sheet.replaceSync(text);
    html.ownerDocument.adoptedStyleSheets = [...html.ownerDocument.adoptedStyleSheets, sheet];
  }, cssText);
}

/** Computed values of `properties` on the first element `locator` finds (shadow roots are pierced). */
export function computed<K extends string>(
  locator: Locator,
  properties: readonly K[],
): Promise<Record<K, string>> {
  return locator.first().evaluate((el, names) => {
    const style = el.ownerDocument.defaultView!.getComputedStyle(el);
    return Object.fromEntries(names.map((n) => [n, style.getPropertyValue(n)]));
  }, properties as K[]) as Promise<Record<K, string>>;
}

// --- waiting on the page (vitest's expect has no locator matchers) --------

/** The element's text with whitespace collapsed; null when it is not there. */
export async function textOf(locator: Locator): Promise<string | null> {
  if ((await locator.count()) === 0) return null;
  const text = await locator.first().textContent({ timeout: 2_000 });
  return text === null ? null : text.replace(/\s+/g, ' ').trim();
}

/** Waits until the text equals (string) or matches (RegExp) `expected`. */
export async function expectText(
  locator: Locator,
  expected: string | RegExp,
  timeout = 10_000,
): Promise<void> {
  const poll = expect.poll(() => textOf(locator), { timeout, interval: 50 });
  if (typeof expected === 'string') await poll.toBe(expected);
  else await poll.toMatch(expected);
}

export async function expectCount(locator: Locator, count: number, timeout = 10_000): Promise<void> {
  await expect.poll(() => locator.count(), { timeout, interval: 50 }).toBe(count);
}

export async function expectVisible(locator: Locator, timeout = 10_000): Promise<void> {
  await expect.poll(() => locator.first().isVisible(), { timeout, interval: 50 }).toBe(true);
}
