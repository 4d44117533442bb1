// The live progress display for a terminal: one row per artifact and an
// overall row, redrawn in place (cursor up, erase line) at the engine's
// progress rate. Rows are cut to the terminal width so a wrapped line never
// throws the redraw off.
import { describeDelta } from '../contract/index.js';
import type { SyncProgress } from '../main/engine/index.js';
import { bar, formatBytes, formatDuration, formatRate, percent } from './format.js';

const ESC = '\u001b[';
const HIDE_CURSOR = `${ESC}?25l`;
const SHOW_CURSOR = `${ESC}?25h`;
const ERASE_LINE = `${ESC}2K`;
const ERASE_BELOW = `${ESC}J`;

const PHASE_WORDS: Record<SyncProgress['phase'], string> = {
  checking: 'checking the cache',
  'waiting-for-lock': 'waiting for another process to finish with this cache',
  downloading: 'downloading',
  verifying: 'verifying sha256',
  finalizing: 'writing the manifest',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
};

export function artifactStateText(a: SyncProgress['artifacts'][number]): string {
  switch (a.state) {
    case 'queued':
      return a.error ? `retrying (${a.error.code})` : 'queued';
    case 'downloading':
      return 'downloading';
    case 'stalled':
      return 'stalled, waiting for bytes';
    case 'verifying':
      return 'verifying sha256…';
    case 'verified':
      return `sha256 verified ${a.sha256.slice(0, 12)}`;
    case 'cached':
      return `cached, sha256 ${a.sha256.slice(0, 12)}`;
    case 'failed':
      return `failed: ${a.error?.code ?? 'error'}`;
  }
}

/** "1.2/2.9 MB" when both share a unit, else "512 kB/2.9 MB". */
function sizePair(done: number, total: number): string {
  const a = formatBytes(done);
  const b = formatBytes(total);
  const unitA = a.split(' ')[1];
  const unitB = b.split(' ')[1];
  return unitA === unitB ? `${a.split(' ')[0]}/${b}` : `${a}/${b}`;
}

/**
 * The rows for one progress event (pure: tested without a terminal). Columns:
 * label, bar, percent, bytes, state; the bar takes what the terminal width
 * leaves (and goes when there is no room), the state is never cut.
 */
export function renderRows(p: SyncProgress, columns: number): string[] {
  let header = `vm-cache sync: ${PHASE_WORDS[p.phase]}`;
  if (p.attempt > 1) header += ` (attempt ${p.attempt})`;
  const rows: string[] = [header];
  if (p.artifacts.length > 0) {
    const table = p.artifacts.map((a) => ({
      label: `${a.agent} ${a.version} ${a.arch}`,
      done: a.receivedBytes,
      total: a.sizeBytes,
      tail: artifactStateText(a),
    }));
    let tail = '';
    if (p.phase === 'downloading' || p.phase === 'verifying') {
      tail = `${p.bytesPerSecond > 0 ? formatRate(p.bytesPerSecond) : '-- B/s'}  ${
        p.artifacts.some((a) => a.state === 'stalled')
          ? 'stalled, retrying'
          : p.etaSeconds === null
            ? '--:-- left'
            : `${formatDuration(p.etaSeconds)} left`
      }`;
    } else if (p.phase === 'done') {
      tail = `in ${formatDuration((p.at - p.startedAt) / 1000)}`;
    }
    table.push({ label: 'total', done: p.receivedBytes, total: p.totalBytes, tail });
    const labelW = Math.max(...table.map((r) => r.label.length));
    const sizeW = Math.max(...table.map((r) => sizePair(r.done, r.total).length));
    const tailW = Math.max(...table.map((r) => r.tail.length));
    const width = Math.max(20, columns - 1);
    // Narrow terminals lose the bars first, then the byte counts; never the state.
    const showSizes = 2 + labelW + 2 + 4 + 2 + sizeW + 2 + tailW <= width;
    const fixed = 2 + labelW + 2 + 4 + 2 + (showSizes ? sizeW + 2 : 0) + tailW;
    const room = width - fixed - 3;
    const barW = room >= 8 ? Math.min(30, room) : 0;
    for (const [i, r] of table.entries()) {
      const barText = barW > 0 ? ` ${bar(r.done, r.total, barW)}` : '';
      const sizes = showSizes ? `  ${sizePair(r.done, r.total).padStart(sizeW)}` : '';
      rows.push(
        `  ${r.label.padEnd(labelW)} ${barText} ${percent(r.done, r.total)}${sizes}  ${r.tail}`.trimEnd(),
      );
      const a = p.artifacts[i];
      const delta = a && describeDelta(a.delta, a.state === 'verified');
      if (delta) rows.push(`    ${delta}`);
    }
    // Too narrow for bars in the rows: the overall bar gets a line of its own.
    if (barW === 0)
      rows.push(`  ${bar(p.receivedBytes, p.totalBytes, Math.max(10, Math.min(60, columns - 6)))}`);
  }
  const width = Math.max(20, columns - 1);
  return rows.map((r) => (r.length > width ? `${r.slice(0, width - 1)}…` : r));
}

export class LiveView {
  private drawn = 0;
  private last: SyncProgress | undefined;
  private closed = false;
  private readonly restore = () => this.out.write(SHOW_CURSOR);

  constructor(private readonly out: NodeJS.WriteStream) {
    out.write(HIDE_CURSOR);
    // Whatever happens, the user gets their cursor back.
    process.once('exit', this.restore);
  }

  update(p: SyncProgress): void {
    if (this.closed) return;
    this.last = p;
    this.draw(p);
  }

  private draw(p: SyncProgress): void {
    const rows = renderRows(p, this.out.columns || 80);
    let frame = this.drawn > 0 ? `${ESC}${this.drawn}A\r` : '';
    for (const row of rows) frame += `${ERASE_LINE}${row}\n`;
    if (rows.length < this.drawn) frame += ERASE_BELOW;
    this.out.write(frame);
    this.drawn = rows.length;
  }

  /** The last frame stays on screen; the cursor comes back. */
  close(): void {
    if (this.closed) return;
    if (this.last) this.draw(this.last);
    this.closed = true;
    this.out.write(SHOW_CURSOR);
    process.off('exit', this.restore);
  }
}
