// What a key resolves to: something with a size, validators and a way to read any
// byte range lazily. One shape for generated artifacts, in-memory documents and
// files on disk, so the HTTP layer has a single code path for all of them.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { contentPieces } from './content.js';
import type { DirFile } from './keys.js';

export interface Resource {
  size: number;
  etag: string;
  lastModified: string;
  contentType: string;
  /** The bytes [start, end), read lazily in pieces; pieces must not be mutated. */
  read(start: number, end: number): Iterable<Buffer> | AsyncIterable<Buffer>;
}

export function contentTypeFor(key: string): string {
  if (key.endsWith('.json')) return 'application/json';
  if (key.endsWith('.tar.gz') || key.endsWith('.tgz') || key.endsWith('.gz')) return 'application/gzip';
  if (extname(key) === '.txt') return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}

export function generatedResource(
  seed: string,
  size: number,
  sha256: string,
  key: string,
  modified: Date,
): Resource {
  return {
    size,
    // Derived from the content hash: stable across restarts, changes with the bytes.
    etag: `"${sha256.slice(0, 32)}"`,
    lastModified: modified.toUTCString(),
    contentType: contentTypeFor(key),
    read: (start, end) => contentPieces(seed, start, end),
  };
}

export function bufferResource(body: Buffer, key: string, modified: Date): Resource {
  return {
    size: body.length,
    etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`,
    lastModified: modified.toUTCString(),
    contentType: contentTypeFor(key),
    read: (start, end) => (end > start ? [body.subarray(start, end)] : []),
  };
}

export function fileResource(file: DirFile, key: string): Resource {
  const { size, mtimeMs, mtime } = file.stats;
  return {
    size,
    // Size and mtime, like common static servers: no need to hash big files per request.
    etag: `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`,
    lastModified: mtime.toUTCString(),
    contentType: contentTypeFor(key),
    read: (start, end) =>
      end > start ? createReadStream(file.path, { start, end: end - 1, highWaterMark: 64 * 1024 }) : [],
  };
}
