// Plumbing for the main-process tests: a real controller on a temp root
// against a real artifact server, a recording logger, senders, waiting.
import { VmCacheController, type VmCacheControllerOptions } from '../../main/service/controller.js';
import type { SenderInfo } from '../../main/service/hub.js';
import type { ArtifactServer } from '../../server/index.js';
import { keyOf, server, tempRoot } from '../helpers.js';

export const PAGE_URL = 'file:///opt/app/out/renderer/first-run.html';
export const PAGE_PREFIX = 'file:///opt/app/out/renderer/';

export function sender(id: number, url = PAGE_URL, isMainFrame = true): SenderInfo {
  return { id, url, isMainFrame };
}

export interface LoggedLine {
  level: 'info' | 'warn' | 'error';
  text: string;
}

export function recordingLogger() {
  const lines: LoggedLine[] = [];
  const line =
    (level: LoggedLine['level']) =>
    (...args: unknown[]) => {
      lines.push({ level, text: args.map(String).join(' ') });
    };
  return { lines, info: line('info'), warn: line('warn'), error: line('error') };
}

/** One x64 artifact, dripped so a sync lasts about sizeBytes / bytesPerSec seconds. */
export async function dripServer(
  sizeBytes: number,
  bytesPerSec: number,
): Promise<{ s: ArtifactServer; key: string }> {
  const s = await server({
    artifacts: [{ agent: 'openclaw', version: '2026.4.12', arch: 'x64', sizeBytes }],
  });
  const key = keyOf(s);
  s.setFault(key, { dripBytesPerSec: bytesPerSec });
  return { s, key };
}

export async function controllerFor(
  s: ArtifactServer,
  extra: Partial<VmCacheControllerOptions> = {},
): Promise<VmCacheController> {
  return new VmCacheController({
    root: await tempRoot(),
    manifestUrl: s.manifestUrl,
    rawHostArch: 'x64',
    // The real fetch: the same path Electron's net.fetch takes through the engine.
    fetchImpl: (url, init) => fetch(url, init),
    ...extra,
  });
}

export async function waitFor(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** What the pages scheme answered for a window's page (the stand-in's loadURL asks the session's handler). */
export async function servedBody(win: { responses: Response[] }): Promise<string> {
  await waitFor(() => win.responses.length > 0, 5_000, 'the page’s response');
  const response = win.responses[0]!;
  if (!response.ok) throw new Error(`the page was answered ${response.status}`);
  return response.clone().text();
}
