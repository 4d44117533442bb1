// The settings form's read-only parts: what is cached, and the Verify report.
import { html, nothing, type TemplateResult } from 'lit';
import type { CacheStatus, VerifyReport } from '../../contract/status.js';
import { formatBytes, formatDate } from './format.js';
import { artifactName } from './words.js';

/** "openclaw 2026.4.12, hermes 1.8.0": one entry per agent, whatever the arches. */
export function versionsOf(cached: NonNullable<CacheStatus['cached']>): string {
  const seen = new Set<string>();
  for (const a of cached.artifacts) seen.add(`${a.agent} ${a.version}`);
  return [...seen].join(', ');
}

export function statusList(s: CacheStatus): TemplateResult {
  const cached = s.cached;
  return html`<dl>
    <dt>Version</dt>
    <dd data-field="version">${cached ? versionsOf(cached) || 'Empty manifest' : 'No VM images cached'}</dd>
    ${
      cached
        ? html`<dt>Published</dt>
            <dd data-field="published">${formatDate(cached.updatedAt, false)}</dd>`
        : nothing
    }
    <dt>Size on disk</dt>
    <dd data-field="size">${formatBytes(s.sizeOnDiskBytes)}</dd>
    <dt>Last successful sync</dt>
    <dd data-field="last-sync">${s.lastSync ? formatDate(s.lastSync.at) : 'Never'}</dd>
    ${
      s.logPath
        ? html`<dt>Log file</dt>
            <dd class="path" data-field="log">${s.logPath}</dd>`
        : nothing
    }
  </dl>`;
}

const VERIFY_WORDS = {
  ok: 'ok',
  missing: 'missing: Check for updates downloads it',
  corrupt: 'corrupt: removed, Check for updates downloads it again',
} as const;

/** A corrupt image whose bad chunks are known is kept, and only those are fetched again. */
function verifyWords(e: VerifyReport['entries'][number]): string {
  if (e.state !== 'corrupt' || !e.badRanges) return VERIFY_WORDS[e.state];
  const bad = e.badRanges.reduce((n, r) => n + r.length, 0);
  return `corrupt: ${formatBytes(bad)} bad, Check for updates fetches only that`;
}

export function verifySummary(report: VerifyReport): string {
  if (report.entries.length === 0) return 'Nothing to verify: no VM images are cached.';
  const bad = report.entries.filter((e) => e.state !== 'ok').length;
  if (bad === 0) return `Verified: all ${report.entries.length} VM images are intact.`;
  return `Verified: ${bad} of ${report.entries.length} VM images need downloading again.`;
}

export function verifyList(report: VerifyReport, status: CacheStatus | null): TemplateResult {
  const names = new Map(status?.cached?.artifacts.map((a) => [a.key, artifactName(a)]) ?? []);
  return html`<div class="verify-report">
    <p class="phase">${verifySummary(report)}</p>
    ${
      report.entries.length > 0
        ? html`<ul class="verify" aria-label="Verify results">
            ${report.entries.map(
              (e) =>
                html`<li data-key=${e.key} data-state=${e.state}>
                  <span class="key">${names.get(e.key) ?? e.key}</span>
                  <span class="state ${e.state === 'ok' ? 'ok' : 'failed'}"
                    >${e.state === 'ok' ? html`<span aria-hidden="true">✓</span> ` : nothing}${verifyWords(e)}</span
                  >
                </li>`,
            )}
          </ul>`
        : nothing
    }
  </div>`;
}
