// Where the files of an import come from: a folder laid out like the CDN, or a .tar
// of one (a USB stick in an air-gapped office). A source is served to the sync
// pipeline as a transport at a file: URL, so an import is a sync: the same
// signature check, manifest rules, lock, plan, one-pass verified writes,
// commit and prune, with no second copy of any of them.
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { statOrUndefined } from './atomic.js';
import { ImportSourceError, VmCacheError } from './errors.js';
import { resolveKeyPath } from './keys.js';
import { artifactRootOf } from './manifest.js';
import { MANIFEST_KEY } from './paths.js';
import { normaliseName, TarArchive } from './tar.js';
import type { Transport } from './transport.js';

export interface ImportSource {
  /** The file: URL the manifest is read from; tarballs are read beside it, as from the CDN. */
  manifestUrl: string;
  /** How the source is named in messages (the folder, or the archive). */
  label: string;
  /** How the manifest is named in messages: its path, or `<archive>:<path inside>`. */
  manifestLabel: string;
  /** A file's size by its key (the manifest, its `.sig`, a tarball), or undefined when absent. */
  size(key: string): Promise<number | undefined>;
  /** A file's bytes by its key. */
  stream(key: string, signal: AbortSignal): Readable;
}

/** Opens a folder laid out like the CDN, or a .tar of one (vm/ at its top or inside one folder). */
export async function openImportSource(from: string): Promise<ImportSource> {
  const st = await statOrUndefined(from);
  if (!st) throw new ImportSourceError(`import: ${from} does not exist`);
  return st.isDirectory() ? folderSource(from) : tarSource(from);
}

function folderSource(dir: string): ImportSource {
  // Keys go through the engine's key rules: nothing is read from outside the folder.
  const file = (key: string) =>
    key === MANIFEST_KEY || key === `${MANIFEST_KEY}.sig`
      ? path.join(dir, ...key.split('/'))
      : resolveKeyPath(dir, key);
  return {
    manifestUrl: new URL(`${pathToFileURL(dir).href.replace(/\/$/, '')}/${MANIFEST_KEY}`).href,
    label: dir,
    manifestLabel: path.join(dir, ...MANIFEST_KEY.split('/')),
    async size(key) {
      const st = await statOrUndefined(file(key));
      return st?.isFile() ? st.size : undefined;
    },
    stream: (key, signal) => createReadStream(file(key), { highWaterMark: 1 << 20, signal }),
  };
}

async function tarSource(tarFile: string): Promise<ImportSource> {
  const tar = await TarArchive.open(tarFile);
  const manifests = [...tar.entries.values()]
    .filter((e) => e.type === 'file' && (e.name === MANIFEST_KEY || e.name.endsWith(`/${MANIFEST_KEY}`)))
    .sort((a, b) => a.name.length - b.name.length);
  const base = manifests[0] ? manifests[0].name.slice(0, -MANIFEST_KEY.length) : '';
  const entry = (key: string) => tar.get(normaliseName(`${base}${key}`));
  // Names inside the archive read as a path below it: file:///media/usb/images.tar/vm/manifest.json
  // (dot segments resolved as URLs resolve them; the transport maps keys back from the same URL).
  const inside = `${base}${MANIFEST_KEY}`.split('/').map(encodeURIComponent).join('/');
  return {
    manifestUrl: new URL(`${pathToFileURL(tarFile).href}/${inside}`).href,
    label: tarFile,
    manifestLabel: `${tarFile}:${base}${MANIFEST_KEY}`,
    async size(key) {
      return entry(key)?.size;
    },
    stream(key, signal) {
      const e = entry(key);
      if (!e) throw new ImportSourceError(`${tarFile} holds no ${key}`);
      return tar.stream(e, signal);
    },
  };
}

/**
 * The source as the pipeline's transport: a URL below the artifact root (as
 * the engine derives it from the manifest URL) names a key, answered 200 with
 * the whole file. A file the source lacks is the source's fault, not a 404
 * from a server. Range is not offered (an import is all or nothing), so a
 * kept partial restarts from zero.
 */
export function sourceTransport(source: ImportSource): Transport {
  const base = `${artifactRootOf(source.manifestUrl)}/`;
  return async (url, request) => {
    const key = url.startsWith(base)
      ? url.slice(base.length).split('/').map(decodeURIComponent).join('/')
      : '';
    const size = key ? await source.size(key) : undefined;
    if (size === undefined) throw missingFrom(source, key || url);
    const stream = source.stream(key, request.signal);
    return {
      status: 200,
      url,
      header: (name) => (name === 'content-length' ? String(size) : undefined),
      body: readErrorsAsSource(stream, source.label, key),
      cancel: () => stream.destroy(),
    };
  };
}

/** A file the import needs and its source lacks. */
export function missingFrom(source: ImportSource, what: string): ImportSourceError {
  return new ImportSourceError(`import: ${what} is missing from ${source.label}; nothing was imported`);
}

/** A read that fails is the source's fault (a pulled USB stick), not the network's. */
async function* readErrorsAsSource(stream: Readable, label: string, key: string): AsyncIterable<Uint8Array> {
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (err) {
    if (err instanceof VmCacheError || (err as Error).name === 'AbortError') throw err;
    throw new ImportSourceError(`cannot read ${key} from ${label}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
