// The settings form's read-only parts: what is cached, and the Verify report.
import { html, nothing, type TemplateResult } from 'lit';
import type { CacheStatus, VerifyReport } from '../../contract/status.js';
import type { L10n } from './format.js';
import { artifactName } from './phrases.js';

/** "openclaw 2026.4.12, hermes 1.8.0": one entry per agent, whatever the arches. */
export function versionsOf(cached: NonNullable<CacheStatus['cached']>): string {
  const seen = new Set<string>();
  for (const a of cached.artifacts) seen.add(`${a.agent} ${a.version}`);
  return [...seen].join(', ');
}

export function statusList(s: CacheStatus, t: L10n): TemplateResult {
  const { status: w } = t.words;
  const cached = s.cached;
  const versions = cached ? versionsOf(cached) : '';
  return html`<dl part="cache-status">
    <dt>${w.version}</dt>
    <dd data-field="version">${
      versions ? html`<bdi>${versions}</bdi>` : cached ? w.emptyManifest : w.noImages
    }</dd>
    ${
      cached
        ? html`<dt>${w.published}</dt>
            <dd data-field="published">${t.format.date(cached.updatedAt, false)}</dd>`
        : nothing
    }
    <dt>${w.sizeOnDisk}</dt>
    <dd data-field="size">${t.format.bytes(s.sizeOnDiskBytes)}</dd>
    <dt>${w.lastSync}</dt>
    <dd data-field="last-sync">${s.lastSync ? t.format.date(s.lastSync.at) : w.never}</dd>
    ${
      s.logPath
        ? html`<dt>${w.logFile}</dt>
            <dd class="path" data-field="log" dir="ltr">${s.logPath}</dd>`
        : nothing
    }
  </dl>`;
}

/** A corrupt image whose bad chunks are known is kept, and only those are fetched again. */
function verifyWords(e: VerifyReport['entries'][number], t: L10n): string {
  const w = t.words.verify;
  if (e.state !== 'corrupt' || !e.badRanges) return w[e.state];
  const bad = e.badRanges.reduce((n, r) => n + r.length, 0);
  return w.corruptRanges(t.format.bytes(bad));
}

export function verifySummary(report: VerifyReport, t: L10n): string {
  const w = t.words.verify;
  const count = report.entries.length;
  if (count === 0) return w.nothing;
  const bad = report.entries.filter((e) => e.state !== 'ok').length;
  const n = t.format.count(count);
  return bad === 0 ? w.allIntact(count, n) : w.someBad(bad, count, t.format.count(bad), n);
}

export function verifyList(report: VerifyReport, status: CacheStatus | null, t: L10n): TemplateResult {
  const names = new Map(status?.cached?.artifacts.map((a) => [a.key, artifactName(a, t)]) ?? []);
  return html`<div class="verify-report" part="verify-report">
    <p class="phase">${verifySummary(report, t)}</p>
    ${
      report.entries.length > 0
        ? html`<ul class="verify" aria-label=${t.words.verify.results}>
            ${report.entries.map(
              (e) =>
                html`<li data-key=${e.key} data-state=${e.state}>
                  <bdi class="key">${names.get(e.key) ?? e.key}</bdi>
                  <span class="state ${e.state === 'ok' ? 'ok' : 'failed'}"
                    >${e.state === 'ok' ? html`<span aria-hidden="true">✓</span> ` : nothing}${verifyWords(e, t)}</span
                  >
                </li>`,
            )}
          </ul>`
        : nothing
    }
  </div>`;
}
