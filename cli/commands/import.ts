// vm-cache import: fills the cache from a folder laid out like the CDN, or a
// .tar of one (a USB stick in an air-gapped office), with the sync's rules:
// the signature checked first (when a key is set), the manifest validated by
// the engine, every tarball copied to `<key>.partial` while hashing, fsynced
// and checked before anything is renamed into place, the manifest written
// last. A corrupt or tampered import changes nothing in the cache.
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import {
  CancelError,
  commitManifest,
  defaultRoot,
  fsError,
  MANIFEST_KEY,
  MAX_MANIFEST_BYTES,
  manifestArchFor,
  parseManifest,
  type SelectedArtifact,
  Sha256MismatchError,
  SignatureError,
  selectArtifacts,
  type VmCacheError,
  type VmManifest,
} from '../../main/engine/index.js';
import { bool, COMMON, keyText, parse, rootOf, str } from '../args.js';
import {
  assertDiskSpace,
  assertNotExpired,
  assertNotOlderThanCached,
  cacheDir,
  claimCacheDir,
  installStaged,
  lockRoot,
  PartialWriter,
  parsePublicKey,
  partialMetaPath,
  partialPath,
  planArtifacts,
  prepareToInstall,
  readCachedManifestFile,
  resolveKeyPath,
  statOrUndefined,
  verifyManifestSignature,
  vouchedArches,
} from '../engine.js';
import { CliError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes } from '../format.js';
import { cancelOnSignals, type Io, Output } from '../output.js';
import { normaliseName, TarArchive } from '../tar.js';

/** Where the import's files come from: a folder or a tar archive. */
interface Source {
  /** How the manifest is named in messages. */
  manifestLabel: string;
  /** The bytes of a small file (manifest, signature), or undefined when absent. */
  read(key: string, max: number): Promise<Buffer | undefined>;
  /** The size of a file, or undefined when absent. */
  size(key: string): Promise<number | undefined>;
  stream(key: string, signal: AbortSignal): Readable;
}

async function folderSource(dir: string): Promise<Source> {
  const file = (key: string) =>
    key === MANIFEST_KEY || key === `${MANIFEST_KEY}.sig`
      ? path.join(dir, ...key.split('/'))
      : resolveKeyPath(dir, key);
  return {
    manifestLabel: path.join(dir, 'vm', 'manifest.json'),
    async read(key, max) {
      const st = await statOrUndefined(file(key));
      if (!st?.isFile()) return undefined;
      if (st.size > max) throw new CliError('ERR_IMPORT_SOURCE', `${file(key)} is larger than ${max} bytes`);
      return fs.readFile(file(key));
    },
    async size(key) {
      const st = await statOrUndefined(file(key));
      return st?.isFile() ? st.size : undefined;
    },
    stream: (key, signal) => createReadStream(file(key), { highWaterMark: 1 << 20, signal }),
  };
}

async function tarSource(tarFile: string): Promise<Source> {
  const tar = await TarArchive.open(tarFile);
  // The archive may hold vm/... at its top or inside one folder (tar -cf x.tar mirror).
  const manifests = [...tar.entries.values()]
    .filter((e) => e.type === 'file' && (e.name === MANIFEST_KEY || e.name.endsWith(`/${MANIFEST_KEY}`)))
    .sort((a, b) => a.name.length - b.name.length);
  const base = manifests[0] ? manifests[0].name.slice(0, -MANIFEST_KEY.length) : '';
  const entry = (key: string) => tar.get(normaliseName(`${base}${key}`));
  return {
    manifestLabel: `${tarFile}:${base}${MANIFEST_KEY}`,
    async read(key, max) {
      const e = entry(key);
      return e ? tar.readSmall(e, max) : undefined;
    },
    async size(key) {
      return entry(key)?.size;
    },
    stream(key, signal) {
      const e = entry(key);
      if (!e) throw new CliError('ERR_IMPORT_SOURCE', `${tarFile} holds no ${key}`);
      return tar.stream(e, signal);
    },
  };
}

async function openSource(from: string): Promise<Source> {
  const st = await statOrUndefined(from);
  if (!st) throw new CliError('ERR_IMPORT_SOURCE', `import: ${from} does not exist`);
  return st.isDirectory() ? folderSource(from) : tarSource(from);
}

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
  const cancel = cancelOnSignals();
  try {
    const from = path.resolve(positionals[0]!);
    const root = rootOf(values) ?? defaultRoot();
    const keyArg = str(values, 'public-key') ?? (io.env.VM_CACHE_PUBLIC_KEY?.trim() || undefined);
    const publicKey =
      keyArg === undefined ? undefined : parsePublicKey(await keyText('import', 'public-key', keyArg));
    const source = await openSource(from);
    const label = source.manifestLabel;

    const bytes = await source.read(MANIFEST_KEY, MAX_MANIFEST_BYTES);
    if (!bytes) {
      throw new CliError(
        'ERR_IMPORT_SOURCE',
        `import: no ${MANIFEST_KEY} in ${from}; expected a folder laid out like the CDN (vm/manifest.json, vm/images/...) or a .tar of one`,
      );
    }
    if (publicKey) {
      const signature = await source.read(`${MANIFEST_KEY}.sig`, 4096);
      if (!signature) {
        throw new SignatureError(
          `manifest signature missing: no ${label}.sig in the import; nothing was changed`,
        );
      }
      verifyManifestSignature(bytes, signature, publicKey, label);
    }
    const { doc, manifest } = parseManifest(bytes, label);
    assertNotExpired(manifest, label);
    const allArches = bool(values, 'all-arches');
    const artifacts = selectArtifacts(manifest, label, manifestArchFor(process.arch), allArches);
    // Every file there, at its declared size, before the cache is touched.
    for (const a of artifacts) {
      const size = await source.size(a.key);
      if (size === undefined) {
        throw new CliError(
          'ERR_IMPORT_SOURCE',
          `import: ${a.key} is missing from ${from}; nothing was imported`,
        );
      }
      if (size !== a.sizeBytes) {
        throw mismatch(
          a.key,
          a.sha256,
          `the import holds ${size} bytes where the manifest declares ${a.sizeBytes}`,
        );
      }
    }

    const lock = await lockRoot(root, {
      signal: cancel.signal,
      onWait: () => out.note('waiting for another process to finish with this cache…'),
    });
    try {
      await claimCacheDir(root);
      const arches = allArches ? '*' : [manifestArchFor(process.arch)];
      const result = await install(root, source, doc, manifest, artifacts, arches, cancel.signal, out, from);
      if (out.json) out.line({ type: 'result', ...result });
      else {
        const n = result.imported.length;
        out.text(
          `Imported ${n} tarball${n === 1 ? '' : 's'}${result.skipped.length ? ` (${result.skipped.length} already in the cache)` : ''} into ${root}.`,
        );
      }
      return EXIT.ok;
    } finally {
      await lock.release();
    }
  } catch (err) {
    return out.fail(
      cancel.signal.aborted ? new CancelError('import cancelled; the cache was left as it was') : err,
    );
  } finally {
    cancel.dispose();
  }
}

async function install(
  root: string,
  source: Source,
  doc: Record<string, unknown>,
  manifest: VmManifest,
  artifacts: SelectedArtifact[],
  arches: string[] | '*',
  signal: AbortSignal,
  out: Output,
  from: string,
): Promise<{ imported: string[]; skipped: string[]; manifestPath: string }> {
  const dir = cacheDir(root);
  const cached = await readCachedManifestFile(root);
  // An import never takes the cache back to an older manifest (a stale copy
  // of the mirror); to go back on purpose, clear the cache first.
  if (cached) assertNotOlderThanCached(manifest, doc, cached, `${from} (import)`);
  // The sync's own planning: a file is skipped only when the cached manifest's
  // entry for it (same key, arch, sha256 and size) vouches for it.
  const plans = await planArtifacts(
    dir,
    artifacts,
    cached?.manifest,
    await vouchedArches(root, cached, manifestArchFor(process.arch)),
  );
  const toCopy: Array<{ artifact: SelectedArtifact; dest: string }> = [];
  const skipped: string[] = [];
  for (const plan of plans) {
    if (plan.action === 'cached') {
      skipped.push(plan.artifact.key);
      report(out, plan.artifact, 'cached');
    } else {
      toCopy.push({ artifact: plan.artifact, dest: plan.path });
    }
  }
  await assertDiskSpace(
    dir,
    toCopy.reduce((n, c) => n + c.artifact.sizeBytes, 0),
  );
  await prepareToInstall(
    root,
    dir,
    toCopy.map((c) => ({ key: c.artifact.key, path: c.dest })),
    cached?.manifest,
  );

  // Stage and check everything first; the cache changes only once all of it
  // is good, and then as a sync changes it (the manifest first, when a file it
  // may vouch for is replaced).
  const staged: string[] = [];
  try {
    for (const { artifact, dest } of toCopy) {
      staged.push(dest);
      await copyVerified(source, artifact, dest, signal, out);
    }
    await installStaged(root, staged);
  } catch (err) {
    for (const dest of staged) await fs.rm(partialPath(dest), { force: true }).catch(() => {});
    throw err;
  }

  const imported = toCopy.map((c) => c.artifact.key);
  const manifestPath = await commitManifest({
    root,
    doc,
    manifest,
    installed: imported,
    arches,
    source: pathToFileURL(from).href,
    previous: cached?.manifest,
    prune: true,
  });
  return { imported, skipped, manifestPath };
}

/** Source -> sha256 -> `<dest>.partial`, one pass; fsynced; refused unless size and sha256 match. */
async function copyVerified(
  source: Source,
  artifact: SelectedArtifact,
  dest: string,
  signal: AbortSignal,
  out: Output,
): Promise<void> {
  const partial = partialPath(dest);
  const folder = path.dirname(dest);
  // Whatever a sync left for this key describes other bytes now.
  await fs.rm(partialMetaPath(dest), { force: true });
  let writer: PartialWriter;
  try {
    await fs.mkdir(folder, { recursive: true });
    writer = await PartialWriter.open(partial, 0);
  } catch (err) {
    throw fsError(`cannot write ${partial}`, folder, err);
  }
  let received = 0;
  let ok = false;
  try {
    report(out, artifact, 'copying');
    for await (const chunk of source.stream(artifact.key, signal)) {
      const buf = chunk as Buffer;
      if (received + buf.length > artifact.sizeBytes) {
        throw mismatch(
          artifact.key,
          artifact.sha256,
          `the import holds more than the ${artifact.sizeBytes} bytes the manifest declares`,
        );
      }
      received += buf.length;
      try {
        const full = writer.write(buf, signal);
        if (full) await full;
      } catch (err) {
        throw fsError(`cannot write ${partial}`, folder, err);
      }
    }
    let actual: string;
    try {
      actual = await writer.digest(signal);
    } catch (err) {
      throw fsError(`cannot write ${partial}`, folder, err);
    }
    if (received !== artifact.sizeBytes || actual !== artifact.sha256) {
      throw mismatch(artifact.key, artifact.sha256, `the import's copy has ${actual}`);
    }
    try {
      await writer.finish();
    } catch (err) {
      throw fsError(`cannot finish ${partial}`, folder, err);
    }
    ok = true;
  } finally {
    if (!ok) {
      await writer.abandon();
      await fs.rm(partial, { force: true });
    }
  }
  report(out, artifact, 'verified');
}

function mismatch(key: string, expected: string, detail: string): VmCacheError {
  return new Sha256MismatchError(
    `${key} in the import`,
    expected,
    detail,
    'nothing was imported and the cache is unchanged; copy the files again',
  );
}

function report(out: Output, a: SelectedArtifact, state: 'copying' | 'verified' | 'cached'): void {
  if (out.json) {
    if (state !== 'copying') {
      out.line({ type: 'artifact', ...a, state });
    }
    return;
  }
  const label = `${a.agent} ${a.version} ${a.arch} (${formatBytes(a.sizeBytes)})`;
  if (state === 'copying') out.text(`  ${label}: copying and hashing…`);
  else if (state === 'verified') out.text(`  ${label}: sha256 verified ${a.sha256.slice(0, 12)}`);
  else out.text(`  ${label}: already in the cache, sha256 ${a.sha256.slice(0, 12)}`);
}
