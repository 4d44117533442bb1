// vm-cache move: the engine's moveVmCache (copy, verify, then delete) from
// --root to --to. The CLI keeps no pointer to its root, so its switch is a
// no-op: once the cache has moved, later commands need --root (or
// VM_CACHE_ROOT) naming the new place, and it says so.
import path from 'node:path';
import { defaultRoot, type MoveProgress, type MoveStep, moveVmCache } from '../../main/engine/index.js';
import { bool, COMMON, parse, requireStr, rootOf } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { bar, formatBytes, percent } from '../format.js';
import { cancelOnSignals, type Io, Output } from '../output.js';

const OPTIONS = {
  ...COMMON,
  root: { type: 'string' },
  to: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export async function moveCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse('move', argv, OPTIONS);
  const to = path.resolve(requireStr('move', values, 'to'));
  const out = new Output(io, bool(values, 'json'));
  const from = rootOf(values) ?? defaultRoot(io.env);
  const view = new MoveView(out, io, from, to);
  const cancel = cancelOnSignals();
  try {
    const result = await moveVmCache({
      from,
      to,
      signal: cancel.signal,
      onProgress: view.onProgress,
      onWaitForLock: () => out.note('waiting for another process to finish with this cache…'),
      // No pointer to switch: the user's --root (or VM_CACHE_ROOT) is the CLI's.
      switchRoot: async () => {},
    });
    view.end();
    const { root, movedBytes, files, leftover } = result;
    if (out.json)
      out.line({ type: 'result', from, root, movedBytes, files, ...(leftover ? { leftover } : {}) });
    else
      out.text(
        `Moved ${formatBytes(movedBytes)} (${files} file${files === 1 ? '' : 's'}) from ${from} to ${root}.`,
      );
    const next = `the cache is now at ${root}: the next commands need --root ${root} (or VM_CACHE_ROOT=${root})`;
    const env = io.env.VM_CACHE_ROOT?.trim();
    const stale = env && path.resolve(env) === from ? `; VM_CACHE_ROOT still names ${from}` : '';
    if (out.json) out.note(`${next}${stale}`);
    else out.text(`${next[0]!.toUpperCase()}${next.slice(1)}${stale}.`);
    if (leftover) {
      out.note(
        `some files at ${from} could not be removed (${leftover.message}); run \`vm-cache move --root ${from} --to ${root}\` again to remove them`,
      );
    }
    return EXIT.ok;
  } catch (err) {
    view.end();
    return out.fail(err);
  } finally {
    cancel.dispose();
  }
}

const STEP_WORDS: Record<MoveStep, (from: string, to: string, total: number) => string> = {
  copying: (from, to, total) => `copying ${formatBytes(total)} from ${from} to ${to}…`,
  verifying: () => 'verifying the copy (sha256 of every file, read back)…',
  switching: (_from, to) => `switching to ${to}…`,
  removing: (from) => `removing the old copy at ${from}…`,
};

/**
 * A line per step; on a terminal, the step's bar redrawn in place beneath it.
 * In JSON mode, one {"type":"progress",...} line per event.
 */
class MoveView {
  private step: MoveStep | undefined;
  private barShown = false;

  constructor(
    private readonly out: Output,
    private readonly io: Io,
    private readonly from: string,
    private readonly to: string,
  ) {}

  readonly onProgress = (p: MoveProgress): void => {
    if (this.out.json) {
      this.out.line({ type: 'progress', ...p });
      return;
    }
    if (p.step !== this.step) {
      this.end();
      this.step = p.step;
      this.out.text(`vm-cache move: ${STEP_WORDS[p.step](this.from, this.to, p.totalBytes)}`);
    }
    const live = (p.step === 'copying' || p.step === 'verifying') && p.totalBytes > 0;
    if (live && this.io.stdout.isTTY) {
      const done = formatBytes(p.doneBytes);
      this.io.stdout.write(
        `\r\u001b[2K  ${bar(p.doneBytes, p.totalBytes, 30)} ${percent(p.doneBytes, p.totalBytes)}  ${done} of ${formatBytes(p.totalBytes)}`,
      );
      this.barShown = true;
    }
  };

  /** Ends the bar's line, if one is drawn. */
  end(): void {
    if (this.barShown) this.io.stdout.write('\n');
    this.barShown = false;
  }
}
