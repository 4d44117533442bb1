// vm-cache status | verify | clear: the engine's maintenance actions.
import { clearVmCache, defaultRoot, getVmCacheStatus, verifyVmCache } from '../../main/engine/index.js';
import { bool, COMMON, parse, rootOf } from '../args.js';
import { CliError } from '../errors.js';
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
  const { values } = parse('verify', argv, { ...BASE, 'all-arches': { type: 'boolean' } });
  const out = new Output(io, bool(values, 'json'));
  const cancel = cancelOnSignals();
  try {
    const root = rootOf(values) ?? defaultRoot();
    const report = await verifyVmCache({
      root,
      allArches: bool(values, 'all-arches'),
      signal: cancel.signal,
      onWaitForLock: () => out.note('waiting for another process to finish with this cache…'),
    });
    if (report.entries.length === 0 && !report.ok) {
      throw new CliError('ERR_NO_CACHE', `no cache to verify at ${root}; run \`vm-cache sync\` first`);
    }
    if (out.json) out.line({ root, ...report });
    else {
      for (const e of report.entries) {
        const words = { ok: 'ok', missing: 'MISSING', corrupt: 'CORRUPT (removed)' }[e.state];
        out.text(`  ${words.padEnd(17)}  ${e.key}`);
      }
      out.text(
        report.ok
          ? `All ${report.entries.length} tarball${report.entries.length === 1 ? '' : 's'} verified.`
          : 'The cache is damaged; run `vm-cache sync` to repair it.',
      );
    }
    if (!report.ok) {
      out.note('verify found missing or corrupt tarballs; run `vm-cache sync` to repair');
      return EXIT.integrity;
    }
    return EXIT.ok;
  } catch (err) {
    return out.fail(err);
  } finally {
    cancel.dispose();
  }
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
