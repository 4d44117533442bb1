// importVmCache: fills the cache from a folder laid out like the CDN, or a
// .tar of one, through the sync pipeline itself (import-source.ts serves the
// files as a transport). Everything a sync guarantees holds: the signature
// checked first when a key is set, the manifest validated, each tarball
// hashed in the one pass that writes it, the manifest written last. On top,
// an import is all or nothing: a corrupt or incomplete one changes nothing.
import type { SyncResult } from '../../contract/status.js';
import { ImportSourceError, Sha256MismatchError } from './errors.js';
import { type ImportSource, missingFrom, openImportSource, sourceTransport } from './import-source.js';
import { flightKey, startFlight } from './inflight.js';
import type { SelectedArtifact } from './manifest.js';
import { type ImportMode, resolveWith, type VmCacheOptions } from './options.js';
import { MANIFEST_KEY } from './paths.js';

/** The sync's options that mean something for an import; the source replaces the URL and the network. */
export interface ImportOptions
  extends Pick<
    VmCacheOptions,
    | 'root'
    | 'allArches'
    | 'rawHostArch'
    | 'signal'
    | 'onProgress'
    | 'publicKey'
    | 'concurrency'
    | 'diskMarginBytes'
    | 'lockTimeoutMs'
    | 'writer'
  > {
  /** A folder laid out like the CDN (vm/manifest.json, vm/images/...), or a .tar of one. */
  from: string;
}

export async function importVmCache(options: ImportOptions): Promise<SyncResult> {
  // One tarball at a time unless asked otherwise: a USB stick or a disk reads one stream fastest.
  const { from, concurrency = 1, ...rest } = options;
  const source = await openImportSource(from);
  if ((await source.size(MANIFEST_KEY)) === undefined) {
    throw new ImportSourceError(
      `import: no ${MANIFEST_KEY} in ${from}; expected a folder laid out like the CDN (vm/manifest.json, vm/images/...) or a .tar of one`,
    );
  }
  const opts = resolveWith(
    { ...rest, concurrency },
    source.manifestUrl,
    sourceTransport(source),
    importMode(source),
  );
  // Registered like a sync: the root's watchers (a settings page), getSyncProgress and
  // ensureVmCacheAvailable see an import in flight. Only the caller's signal cancels it.
  const key = flightKey(opts.root, opts.manifestUrl, opts.allArches ? '*' : opts.arch, 'import');
  return startFlight(key, opts, rest.signal);
}

function importMode(source: ImportSource): ImportMode {
  const mismatch = (a: SelectedArtifact, detail: string) =>
    new Sha256MismatchError(
      `${a.key} in the import`,
      a.sha256,
      detail,
      'nothing was imported and the cache is unchanged; copy the files again',
    );
  return {
    label: source.manifestLabel,
    mismatch,
    async preflight(artifacts: SelectedArtifact[]) {
      for (const a of artifacts) {
        const size = await source.size(a.key);
        if (size === undefined) throw missingFrom(source, a.key);
        if (size !== a.sizeBytes) {
          throw mismatch(a, `the import holds ${size} bytes where the manifest declares ${a.sizeBytes}`);
        }
      }
    },
  };
}
