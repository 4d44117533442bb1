// vm-cache import: fills the cache from a folder laid out like the CDN, or a
// .tar of one (a USB stick in an air-gapped office). The engine's
// importVmCache runs it through the sync pipeline; this prints what happens.
import path from 'node:path';
import {
  type ArtifactProgress,
  CancelError,
  defaultRoot,
  importVmCache,
  type SyncProgress,
} from '../../main/engine/index.js';
import { bool, COMMON, keyText, parse, rootOf, str } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes } from '../format.js';
import { cancelOnSignals, type Io, Output } from '../output.js';

export async function importCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    'import',
    argv,
    {
      ...COMMON,
      root: { type: 'string' },
      'public-key': { type: 'string' },
      'all-arches': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    { min: 1, max: 1, what: 'the PATH to import from (a folder or a .tar)' },
  );
  const out = new Output(io, bool(values, 'json'));
  const report = new ImportReport(out);
  const cancel = cancelOnSignals();
  try {
    const root = rootOf(values) ?? defaultRoot();
    const keyArg = str(values, 'public-key') ?? (io.env.VM_CACHE_PUBLIC_KEY?.trim() || undefined);
    const result = await importVmCache({
      from: path.resolve(positionals[0]!),
      root,
      allArches: bool(values, 'all-arches'),
      signal: cancel.signal,
      onProgress: report.onProgress,
      ...(keyArg === undefined ? {} : { publicKey: await keyText('import', 'public-key', keyArg) }),
    });
    const held = report.keys.filter((k) => !result.downloaded.includes(k));
    if (out.json) {
      out.line({
        type: 'result',
        imported: result.downloaded,
        skipped: held,
        manifestPath: result.manifestPath,
      });
    } else {
      const n = result.downloaded.length;
      out.text(
        `Imported ${n} tarball${n === 1 ? '' : 's'}${held.length ? ` (${held.length} already in the cache)` : ''} into ${root}.`,
      );
    }
    return EXIT.ok;
  } catch (err) {
    return out.fail(
      cancel.signal.aborted ? new CancelError('import cancelled; the cache was left as it was') : err,
    );
  } finally {
    cancel.dispose();
  }
}

/** Prints each tarball as it is copied, verified or found already there, and remembers which were there. */
class ImportReport {
  private readonly states = new Map<string, ArtifactProgress['state']>();
  private waited = false;

  constructor(private readonly out: Output) {}

  /** Every tarball the import selected. */
  get keys(): string[] {
    return [...this.states.keys()];
  }

  readonly onProgress = (p: SyncProgress): void => {
    if (p.phase === 'waiting-for-lock' && !this.waited) {
      this.waited = true;
      this.out.note('waiting for another process to finish with this cache…');
    }
    for (const a of p.artifacts) {
      if (this.states.get(a.key) === a.state) continue;
      const first = !this.states.has(a.key) || this.states.get(a.key) === 'queued';
      this.states.set(a.key, a.state);
      if (a.state === 'downloading' && first) this.line(a, 'copying');
      else if (a.state === 'verified' || a.state === 'cached') this.line(a, a.state);
    }
  };

  private line(a: ArtifactProgress, state: 'copying' | 'verified' | 'cached'): void {
    const { key, agent, version, arch, sha256, sizeBytes } = a;
    if (this.out.json) {
      if (state !== 'copying')
        this.out.line({ type: 'artifact', key, agent, version, arch, sha256, sizeBytes, state });
      return;
    }
    const label = `${agent} ${version} ${arch} (${formatBytes(sizeBytes)})`;
    if (state === 'copying') this.out.text(`  ${label}: copying and hashing…`);
    else if (state === 'verified') this.out.text(`  ${label}: sha256 verified ${sha256.slice(0, 12)}`);
    else this.out.text(`  ${label}: already in the cache, sha256 ${sha256.slice(0, 12)}`);
  }
}
