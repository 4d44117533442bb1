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
import { MANIFEST_KEY } from './paths.js';
import { normaliseName, TarArchive } from './tar.js';
import type { Transport } from './transport.js';

export interface ImportSource {
  /** The file: URL the manifest is read from; tarballs are read beside it, as from the CDN. */
  manifestUrl: string;
  /** How the source is named in messages. */
  label: string;
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
    manifestUrl: `${pathToFileURL(dir).href.replace(/\/$/, '')}/${MANIFEST_KEY}`,
    label: dir,
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
  // Names inside the archive read as a path below it: file:///media/usb/images.tar/vm/manifest.json.
  const inside = `${base}${MANIFEST_KEY}`.split('/').map(encodeURIComponent).join('/');
  return {
    manifestUrl: `${pathToFileURL(tarFile).href}/${inside}`,
    label: tarFile,
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
 * The source as the pipeline's transport: a URL below the manifest's folder
 * names a key; 200 with the whole file, or 404. Range is not offered (an
 * import is quick and all-or-nothing), so a kept partial restarts from zero.
 */
export function sourceTransport(source: ImportSource): Transport {
  const base = source.manifestUrl.slice(0, -MANIFEST_KEY.length);
  return async (url, request) => {
    const key = url.startsWith(base)
      ? url.slice(base.length).split('/').map(decodeURIComponent).join('/')
      : '';
    const size = key ? await source.size(key) : undefined;
    const notFound = size === undefined;
    const stream = notFound ? undefined : source.stream(key, request.signal);
    return {
      status: notFound ? 404 : 200,
      url,
      header: (name) => (name === 'content-length' && !notFound ? String(size) : undefined),
      body: stream ? readErrorsAsSource(stream, source.label, key) : emptyBody(),
      cancel: () => stream?.destroy(),
    };
  };
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

async function* emptyBody(): AsyncIterable<Uint8Array> {}
