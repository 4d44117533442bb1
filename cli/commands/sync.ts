// vm-cache sync: the engine's ensureVmCacheSynced with a live display on a
// terminal, JSON lines otherwise, and Ctrl-C as a clean cancel (exit 130,
// partial kept, the next run resumes).

import { describeDelta } from '../../contract/index.js';
import {
  DEFAULT_CONNECTIONS,
  ensureVmCacheSynced,
  MIN_LIMIT_RATE,
  parseRate,
  parseRoot,
  resolveManifestUrl,
  type SyncProgress,
  type VmCacheOptions,
} from '../../main/engine/index.js';
import { bool, COMMON, int, keyText, parse, rootOf, str, strs } from '../args.js';
import { UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes } from '../format.js';
import { LiveView } from '../live-view.js';
import { cancelOnSignals, type Io, Output } from '../output.js';

const OPTIONS = {
  ...COMMON,
  manifest: { type: 'string' },
  root: { type: 'string' },
  'all-arches': { type: 'boolean' },
  retries: { type: 'string' },
  'public-key': { type: 'string' },
  'allow-insecure-http': { type: 'boolean' },
  'no-delta': { type: 'boolean' },
  'limit-rate': { type: 'string' },
  connections: { type: 'string' },
  mirror: { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const;

export async function syncCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse('sync', argv, OPTIONS);
  const json = bool(values, 'json') || !io.stdout.isTTY;
  const out = new Output(io, json);
  const options: VmCacheOptions = {
    allArches: bool(values, 'all-arches'),
    allowInsecureHttp: bool(values, 'allow-insecure-http'),
    delta: !bool(values, 'no-delta'),
  };
  try {
    options.retries = int('sync', values, 'retries', 5, 0, 100);
    options.connections = int('sync', values, 'connections', DEFAULT_CONNECTIONS, 1, 32);
    const mirrors = strs(values, 'mirror');
    for (const m of mirrors) {
      try {
        parseRoot(m, bool(values, 'allow-insecure-http'));
      } catch (err) {
        throw new UsageError(`sync: --mirror: ${(err as Error).message}`);
      }
    }
    if (mirrors.length > 0) options.mirrors = mirrors;
    const rate = str(values, 'limit-rate');
    if (rate !== undefined) {
      const bytesPerSecond = parseRate(rate);
      if (bytesPerSecond === undefined || bytesPerSecond < MIN_LIMIT_RATE) {
        throw new UsageError(
          `sync: --limit-rate ${rate}: expected bytes per second, or a number with K, M or G (e.g. 24M, 500K), at least 1K`,
        );
      }
      options.limitRate = bytesPerSecond;
    }
    const root = rootOf(values);
    if (root !== undefined) options.root = root;
    // The engine's rule (option, else VM_CACHE_MANIFEST_URL, else the configured default); none is a usage error here.
    try {
      options.manifestUrl = resolveManifestUrl(str(values, 'manifest'), io.env);
    } catch {
      throw new UsageError(
        'sync: no manifest URL; pass --manifest URL or set VM_CACHE_MANIFEST_URL (run `vm-cache sync --help`)',
      );
    }
    const key = str(values, 'public-key') ?? (io.env.VM_CACHE_PUBLIC_KEY?.trim() || undefined);
    if (key !== undefined) options.publicKey = await keyText('sync', 'public-key', key);
  } catch (err) {
    return out.fail(err);
  }

  const cancel = cancelOnSignals();
  const view = json ? undefined : new LiveView(io.stdout);
  let last: SyncProgress | undefined;
  options.signal = cancel.signal;
  options.onProgress = (p) => {
    last = p;
    if (view) view.update(p);
    else out.line({ type: 'progress', ...p });
  };
  try {
    const result = await ensureVmCacheSynced(options);
    view?.close();
    if (json) {
      out.line({ type: 'result', ...result });
    } else if (result.skipped) {
      out.text('Already up to date.');
    } else {
      const done = (last?.artifacts ?? []).filter((a) => result.downloaded.includes(a.key));
      const bytes = done.reduce((n, a) => n + a.sizeBytes, 0);
      // Bytes a delta update took from the cached files rather than the network.
      const reused = done.reduce((n, a) => n + (a.delta && !a.delta.fallback ? a.delta.reuseBytes : 0), 0);
      const n = result.downloaded.length;
      const delta =
        reused > 0 ? `: ${describeDelta({ reuseBytes: reused, fetchBytes: bytes - reused }, true)}` : '';
      out.text(`Downloaded and verified ${n} tarball${n === 1 ? '' : 's'} (${formatBytes(bytes)})${delta}.`);
    }
    return EXIT.ok;
  } catch (err) {
    view?.close();
    return out.fail(err);
  } finally {
    cancel.dispose();
  }
}
