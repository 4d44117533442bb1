// vm-cache status | verify | clear: the engine's maintenance actions.
import type { VerifyEntry } from '../../contract/index.js';
import {
  clearVmCache,
  defaultRoot,
  ensureVmCacheSynced,
  getVmCacheStatus,
  resolveManifestUrl,
  type SyncProgress,
  type VmCacheOptions,
  verifyVmCache,
} from '../../main/engine/index.js';
import { bool, COMMON, keyText, parse, rootOf, str, type Values } from '../args.js';
import { CliError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes } from '../format.js';
import { cancelOnSignals, type Io, Output } from '../output.js';

const BASE = { ...COMMON, root: { type: 'string' }, json: { type: 'boolean' } } as const;

export async function statusCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse('status', argv, BASE);
  const out = new Output(io, bool(values, 'json'));
  try {
    const root = rootOf(values) ?? defaultRoot();
    const status = await getVmCacheStatus({
      root,
      manifestUrl: io.env.VM_CACHE_MANIFEST_URL?.trim() ?? '',
    });
    if (out.json) {
      out.line(status);
      return EXIT.ok;
    }
    out.text(`cache root:    ${status.root}`);
    if (status.manifestUrl) out.text(`manifest URL:  ${status.manifestUrl}`);
    if (!status.cached) {
      out.text('cached:        nothing yet (no complete cache); run `vm-cache sync` or `vm-cache import`');
    } else {
      out.text(`manifest:      updated ${status.cached.updatedAt ?? 'unknown'}`);
      const labels = status.cached.artifacts.map((a) => `${a.agent} ${a.version} ${a.arch}`);
      const w = Math.max(0, ...labels.map((l) => l.length));
      status.cached.artifacts.forEach((a, i) => {
        out.text(
          `  ${labels[i]!.padEnd(w)}  ${formatBytes(a.sizeBytes).padStart(10)}  ${a.present ? 'present' : 'missing'}  sha256 ${a.sha256.slice(0, 12)}`,
        );
      });
    }
    out.text(`size on disk:  ${formatBytes(status.sizeOnDiskBytes)}`);
    out.text(
      `last sync:     ${
        status.lastSync ? `${status.lastSync.at} (${status.lastSync.downloaded.length} downloaded)` : 'never'
      }`,
    );
    return EXIT.ok;
  } catch (err) {
    return out.fail(err);
  }
}

export async function verifyCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse('verify', argv, {
    ...BASE,
    'all-arches': { type: 'boolean' },
    repair: { type: 'boolean' },
    manifest: { type: 'string' },
    'public-key': { type: 'string' },
  });
  const out = new Output(io, bool(values, 'json'));
  const cancel = cancelOnSignals();
  try {
    const root = rootOf(values) ?? defaultRoot();
    const allArches = bool(values, 'all-arches');
    // A repair syncs: its manifest URL is known before any hashing starts.
    const repair = bool(values, 'repair') ? await repairOptions(values, io) : undefined;
    const report = await verifyVmCache({
      root,
      allArches,
      signal: cancel.signal,
      onWaitForLock: () => out.note('waiting for another process to finish with this cache…'),
    });
    if (report.entries.length === 0 && !report.ok) {
      throw new CliError('ERR_NO_CACHE', `no cache to verify at ${root}; run \`vm-cache sync\` first`);
    }
    if (!out.json) {
      for (const e of report.entries) out.text(`  ${verifyWords(e).padEnd(17)}  ${e.key}`);
      out.text(
        report.ok
          ? `All ${report.entries.length} tarball${report.entries.length === 1 ? '' : 's'} verified.`
          : repair
            ? 'The cache is damaged; repairing it…'
            : 'The cache is damaged; run `vm-cache verify --repair` (or `vm-cache sync`) to repair it.',
      );
    }
    if (report.ok || !repair) {
      if (out.json) out.line({ root, ...report });
      if (report.ok) return EXIT.ok;
      out.note('verify found missing or corrupt tarballs; run `vm-cache verify --repair` to repair');
      return EXIT.integrity;
    }
    let last: SyncProgress | undefined;
    const result = await ensureVmCacheSynced({
      ...repair,
      root,
      allArches,
      signal: cancel.signal,
      onProgress: (p) => {
        last = p;
      },
    });
    // What came over the network: the bad ranges of a kept tarball, or the whole of one downloaded again.
    const fetched = (last?.artifacts ?? [])
      .filter((a) => result.downloaded.includes(a.key))
      .reduce((n, a) => n + (a.delta && !a.delta.fallback ? a.delta.fetchBytes : a.sizeBytes), 0);
    if (out.json) out.line({ root, ...report, repaired: result.downloaded, fetchedBytes: fetched });
    else {
      const n = result.downloaded.length;
      out.text(`Repaired ${n} tarball${n === 1 ? '' : 's'}, fetching ${formatBytes(fetched)}.`);
    }
    return EXIT.ok;
  } catch (err) {
    return out.fail(err);
  } finally {
    cancel.dispose();
  }
}

/** What a corrupt tarball's row says: where it is bad, when the cache could tell. */
function verifyWords(e: VerifyEntry): string {
  if (e.state === 'ok') return 'ok';
  if (e.state === 'missing') return 'MISSING';
  if (!e.badRanges) return 'CORRUPT (removed)';
  const bytes = e.badRanges.reduce((n, r) => n + r.length, 0);
  const where = e.badRanges.map((r) => `${r.offset}-${r.offset + r.length - 1}`).join(', ');
  return `CORRUPT: ${formatBytes(bytes)} bad at bytes ${where} (kept for repair)`;
}

/** The sync options of `verify --repair`: the manifest (and key) as `vm-cache sync` takes them. */
async function repairOptions(values: Values, io: Io): Promise<VmCacheOptions> {
  let manifestUrl: string;
  try {
    manifestUrl = resolveManifestUrl(str(values, 'manifest'), io.env);
  } catch {
    throw new UsageError(
      'verify --repair: no manifest URL; pass --manifest URL or set VM_CACHE_MANIFEST_URL (run `vm-cache verify --help`)',
    );
  }
  const options: VmCacheOptions = { manifestUrl, retries: 5 };
  const key = str(values, 'public-key') ?? (io.env.VM_CACHE_PUBLIC_KEY?.trim() || undefined);
  if (key !== undefined) options.publicKey = await keyText('verify', 'public-key', key);
  return options;
}

export async function clearCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse('clear', argv, BASE);
  const out = new Output(io, bool(values, 'json'));
  // Ctrl-C while waiting for another process's lock ends the wait, as in sync and verify.
  const cancel = cancelOnSignals();
  try {
    const root = rootOf(values) ?? defaultRoot();
    const { removedBytes } = await clearVmCache({
      root,
      signal: cancel.signal,
      onWaitForLock: () => out.note('waiting for another process to finish with this cache…'),
    });
    if (out.json) out.line({ root, removedBytes });
    else out.text(`Cleared ${root} (${formatBytes(removedBytes)} removed).`);
    return EXIT.ok;
  } catch (err) {
    return out.fail(err);
  } finally {
    cancel.dispose();
  }
}
