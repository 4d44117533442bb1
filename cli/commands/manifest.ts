// vm-cache manifest build | sign: the publishing side. The manifest is built
// from the tarballs themselves (sha256 and size in one streaming pass each),
// checked with the engine's own schema, and written atomically; the signature
// is Ed25519 over the exact bytes of the file.
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import {
  buildChunkIndex,
  CHUNK_INDEX_SUFFIX,
  type ChunkIndex,
  parseManifest,
  resolveKeyPath,
  selectArtifacts,
  serializeChunkIndex,
  writeFileAtomic,
} from '../../main/engine/index.js';
import { bool, COMMON, int, parse, requireStr, str } from '../args.js';
import { CliError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes } from '../format.js';
import { MANIFEST_HELP } from '../help.js';
import { type Io, Output } from '../output.js';
import {
  compressionWarning,
  detectCompression,
  openPrevious,
  ReuseMeter,
  type ReuseReport,
  reuseLine,
  reuseShare,
} from './reuse-report.js';

const ARCHES = new Set(['arm64', 'x64']);
const NAME = /^(.+?)-(v?\d[^/]*)-(arm64|x64)\.tar\.gz$/;
const LOOSE_NAME = /^([^-]+)-(.+)-(arm64|x64)\.tar\.gz$/;

interface Entry {
  key: string;
  agent: string;
  version: string;
  arch: string;
}

/** agent, version, arch from `<agent>-<version>-<arch>.tar.gz`, or undefined. */
export function parseTarballName(fileName: string): Omit<Entry, 'key'> | undefined {
  const m = NAME.exec(fileName) ?? LOOSE_NAME.exec(fileName);
  if (!m) return undefined;
  return { agent: m[1]!, version: m[2]!, arch: m[3]! };
}

export async function manifestCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'build') return buildCommand(rest, io);
  if (sub === 'sign') return signCommand(rest, io);
  if (sub === undefined || sub === '--help' || sub === '-h') {
    (sub === undefined ? io.stderr : io.stdout).write(`${MANIFEST_HELP}\n`);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  return new Output(io, false).fail(
    new UsageError(`manifest: unknown subcommand ${JSON.stringify(sub)}; use \`build\` or \`sign\``),
  );
}

async function buildCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    'manifest build',
    argv,
    {
      ...COMMON,
      out: { type: 'string' },
      list: { type: 'string' },
      'image-prefix': { type: 'string' },
      'version-from-name': { type: 'boolean' },
      'manifest-version': { type: 'string' },
      'expires-in': { type: 'string' },
      'no-chunk-index': { type: 'boolean' },
      previous: { type: 'string' },
      json: { type: 'boolean' },
    },
    { min: 1, max: 1, what: 'the folder DIR' },
  );
  const out = new Output(io, bool(values, 'json'));
  try {
    const dir = path.resolve(positionals[0]!);
    const outFile = path.resolve(requireStr('manifest build', values, 'out'));
    const listFile = str(values, 'list');
    const prefix = str(values, 'image-prefix')?.replace(/\/+$/, '');
    const previousSpec = str(values, 'previous');
    if (previousSpec !== undefined && bool(values, 'no-chunk-index')) {
      throw new UsageError(
        'manifest build: --previous measures delta updates, which need chunk indexes; drop --no-chunk-index',
      );
    }
    // Read before anything is hashed (a wrong argument fails at once) and
    // before the manifest is written (DIR may be the previous release's folder).
    const meter = previousSpec
      ? new ReuseMeter(await openPrevious(previousSpec), (s) => out.note(s))
      : undefined;
    const reports: ReuseReport[] = [];
    const warnings: string[] = [];
    const entries = listFile ? await readList(dir, listFile) : await scan(dir, out);
    if (entries.length === 0) {
      throw new CliError(
        'ERR_BUILD_INPUT',
        `manifest build: no tarballs found in ${path.join(dir, 'vm', 'images')} (expected <agent>-<version>-<arch>.tar.gz, arch arm64 or x64)`,
      );
    }

    const agents: Record<
      string,
      {
        image: string;
        version: string;
        tarballs: Record<string, TarballEntry>;
      }
    > = {};
    for (const e of [...entries].sort(
      (a, b) => a.agent.localeCompare(b.agent) || a.arch.localeCompare(b.arch),
    )) {
      agents[e.agent] ??= {
        image: prefix ? `${prefix}/${e.agent}` : `ghcr.io/${e.agent}/${e.agent}`,
        version: e.version,
        tarballs: {},
      };
      const agent = agents[e.agent]!;
      if (agent.version !== e.version) {
        throw new CliError(
          'ERR_BUILD_INPUT',
          `manifest build: two versions of ${e.agent} (${agent.version} and ${e.version}); a manifest lists one version per agent: move the old tarballs out of the folder, or use --list`,
        );
      }
      if (agent.tarballs[e.arch]) {
        throw new CliError(
          'ERR_BUILD_INPUT',
          `manifest build: two ${e.arch} tarballs for ${e.agent} (${agent.tarballs[e.arch]!.key} and ${e.key})`,
        );
      }
      const file = resolveKeyPath(dir, e.key);
      let index: ChunkIndex | undefined;
      if (bool(values, 'no-chunk-index')) agent.tarballs[e.arch] = { key: e.key, ...(await hashFile(file)) };
      else ({ entry: agent.tarballs[e.arch], index } = await indexTarball(dir, e.key, file));
      const { sha256, sizeBytes } = agent.tarballs[e.arch]!;
      if (!out.json) io.stderr.write(`  ${e.key}  ${formatBytes(sizeBytes)}  sha256 ${sha256}\n`);
      const compression = await detectCompression(file);
      const report = meter && index ? await meter.measure(e.key, e.arch, index, compression) : undefined;
      if (report) reports.push(report);
      const warning = compressionWarning(e.key, compression, report && reuseShare(report));
      if (warning) {
        warnings.push(warning);
        out.note(`warning: ${warning}`);
      }
    }
    // Both fields are signed with the rest: apps refuse an older manifestVersion
    // than one they accepted (rollback) and a manifest past expiresAt (freeze).
    const now = Date.now();
    const manifestVersion = str(values, 'manifest-version')
      ? int('manifest build', values, 'manifest-version', 0, 0, Number.MAX_SAFE_INTEGER)
      : undefined;
    const expiresInDays = str(values, 'expires-in')
      ? int('manifest build', values, 'expires-in', 0, 1, 3650)
      : undefined;
    const doc = {
      schemaVersion: 2,
      updatedAt: new Date(now).toISOString(),
      ...(manifestVersion === undefined ? {} : { manifestVersion }),
      ...(expiresInDays === undefined
        ? {}
        : { expiresAt: new Date(now + expiresInDays * 86_400_000).toISOString() }),
      agents,
    };
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    // The engine's own checks, every arch in full: what we publish is what apps accept.
    const { manifest } = parseManifest(text, outFile);
    const artifacts = selectArtifacts(manifest, outFile, 'x64', true);
    await writeFileAtomic(outFile, text);
    const totalBytes = artifacts.reduce((n, a) => n + a.sizeBytes, 0);
    const agentCount = Object.keys(agents).length;
    if (out.json) {
      out.line({
        type: 'result',
        out: outFile,
        agents: agentCount,
        tarballs: artifacts.length,
        totalBytes,
        ...(meter ? { previous: meter.previous.source, reuse: reports } : {}),
        ...(warnings.length > 0 ? { warnings } : {}),
      });
    } else {
      out.text(
        `Wrote ${outFile}: ${agentCount} agent${agentCount === 1 ? '' : 's'}, ${artifacts.length} tarball${artifacts.length === 1 ? '' : 's'} (${formatBytes(totalBytes)}).`,
      );
      if (meter) {
        out.text(`Delta updates from the previous release (${meter.previous.source}):`);
        for (const r of reports) out.text(`  ${reuseLine(r)}`);
      }
    }
    return EXIT.ok;
  } catch (err) {
    return out.fail(err);
  }
}

async function scan(dir: string, out: Output): Promise<Entry[]> {
  const images = path.join(dir, 'vm', 'images');
  let names: string[];
  try {
    names = (await fs.readdir(images, { withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name);
  } catch (err) {
    throw new CliError(
      'ERR_BUILD_INPUT',
      `manifest build: cannot read ${images}: ${(err as Error).message}; DIR must hold vm/images/<agent>-<version>-<arch>.tar.gz`,
      { cause: err },
    );
  }
  const entries: Entry[] = [];
  for (const name of names.sort()) {
    if (!name.endsWith('.tar.gz')) continue;
    const parsed = parseTarballName(name);
    if (!parsed) {
      out.note(`skipped vm/images/${name}: not named <agent>-<version>-<arch>.tar.gz with arch arm64 or x64`);
      continue;
    }
    entries.push({ key: `vm/images/${name}`, ...parsed });
  }
  return entries;
}

async function readList(dir: string, listFile: string): Promise<Entry[]> {
  const text = await fs.readFile(listFile, 'utf8');
  const entries: Entry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${listFile}:${i + 1}`;
    const fields = line.split(/\s+/);
    const key = fields[0]!.replace(/^\.\//, '');
    let parsed: Omit<Entry, 'key'> | undefined;
    if (fields.length === 4) {
      parsed = { agent: fields[1]!, version: fields[2]!, arch: fields[3]! };
      if (!ARCHES.has(parsed.arch))
        throw new UsageError(`manifest build: ${where}: arch must be arm64 or x64`);
    } else if (fields.length === 1) {
      parsed = parseTarballName(path.posix.basename(key));
      if (!parsed) {
        throw new UsageError(
          `manifest build: ${where}: ${key} is not named <agent>-<version>-<arch>.tar.gz; write "PATH AGENT VERSION ARCH"`,
        );
      }
    } else {
      throw new UsageError(`manifest build: ${where}: expected "PATH" or "PATH AGENT VERSION ARCH"`);
    }
    entries.push({ key, ...parsed });
  });
  // Refuse unsafe paths before reading anything.
  for (const e of entries) resolveKeyPath(dir, e.key);
  return entries;
}

interface TarballEntry {
  key: string;
  sha256: string;
  sizeBytes: number;
  chunkIndex?: { key: string; sha256: string; sizeBytes: number };
}

/**
 * sha256, size and the chunk index in one streaming pass; the index is
 * written beside the tarball (`<key>.chunks.json`, published with it) and
 * named in the entry, so the manifest's signature covers it, and returned
 * for --previous to measure.
 */
async function indexTarball(
  dir: string,
  key: string,
  file: string,
): Promise<{ entry: TarballEntry; index: ChunkIndex }> {
  const index = await buildChunkIndex(createReadStream(file, { highWaterMark: 1 << 20 }));
  const text = serializeChunkIndex(index);
  const indexKey = `${key}${CHUNK_INDEX_SUFFIX}`;
  await writeFileAtomic(resolveKeyPath(dir, indexKey), text);
  return {
    entry: {
      key,
      sha256: index.sha256,
      sizeBytes: index.sizeBytes,
      chunkIndex: {
        key: indexKey,
        sha256: createHash('sha256').update(text).digest('hex'),
        sizeBytes: Buffer.byteLength(text),
      },
    },
    index,
  };
}

/** sha256 and size in one streaming pass. */
export async function hashFile(file: string): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    sizeBytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), sizeBytes };
}

async function signCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    'manifest sign',
    argv,
    { ...COMMON, key: { type: 'string' }, json: { type: 'boolean' } },
    { min: 1, max: 1, what: 'the manifest FILE' },
  );
  const out = new Output(io, bool(values, 'json'));
  try {
    const file = path.resolve(positionals[0]!);
    const keyArg = requireStr('manifest sign', values, 'key');
    const key = await loadPrivateKey(keyArg);
    const bytes = await fs.readFile(file);
    // Refuse to sign what apps would refuse anyway.
    const { manifest } = parseManifest(bytes, file);
    selectArtifacts(manifest, file, 'x64', true);
    const signature = sign(null, bytes, key);
    const publicKey = createPublicKey(key);
    if (!verify(null, bytes, publicKey, signature)) throw new Error('the new signature does not verify');
    const sigPath = `${file}.sig`;
    await writeFileAtomic(sigPath, `${signature.toString('base64')}\n`);
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
    if (out.json) {
      out.line({
        type: 'result',
        signature: signature.toString('base64'),
        signaturePath: sigPath,
        publicKey: raw,
      });
    } else {
      out.text(`Wrote ${sigPath} (verifies with public key ${raw}).`);
    }
    return EXIT.ok;
  } catch (err) {
    return out.fail(err);
  }
}

async function loadPrivateKey(arg: string): Promise<KeyObject> {
  let text: string;
  if (arg.includes('-----BEGIN')) text = arg;
  else {
    try {
      text = await fs.readFile(arg, 'utf8');
    } catch (err) {
      throw new UsageError(`manifest sign: cannot read the key file ${arg}: ${(err as Error).message}`);
    }
  }
  if (!text.includes('PRIVATE KEY')) {
    throw new UsageError(
      `manifest sign: ${arg} is not a private key (a PEM "PRIVATE KEY"); sign with the vm-cache.key that \`vm-cache keygen\` wrote, not the .pub`,
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (err) {
    throw new UsageError(`manifest sign: cannot read the private key in ${arg}: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new UsageError(
      `manifest sign: ${arg} is an ${key.asymmetricKeyType} key; manifests are signed with Ed25519`,
    );
  }
  return key;
}
