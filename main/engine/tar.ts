// A small reader for tar archives (POSIX ustar, pax and GNU extensions), for
// imports (`importVmCache`, `vm-cache import`). It indexes the headers with positional reads, skipping
// over the data, then streams any one entry's bytes on demand: a multi-GB
// archive on a USB stick is never read more than once per entry, never held
// in memory, and its manifest can be checked before any tarball is copied.
import { createReadStream, promises as fs } from 'node:fs';
import { Readable } from 'node:stream';
import { TarCorruptError } from './errors.js';

const BLOCK = 512;

export interface TarEntry {
  /** Normalised: no leading "./" or "/", no trailing "/". */
  name: string;
  type: 'file' | 'directory' | 'other';
  size: number;
  /** Where the entry's bytes start in the archive. */
  offset: number;
}

export class TarArchive {
  private constructor(
    readonly file: string,
    /** Regular files and others by name; a later entry of the same name replaces an earlier one, as tar does. */
    readonly entries: Map<string, TarEntry>,
  ) {}

  static async open(file: string): Promise<TarArchive> {
    return new TarArchive(file, await indexTar(file));
  }

  get(name: string): TarEntry | undefined {
    const e = this.entries.get(normaliseName(name));
    return e?.type === 'file' ? e : undefined;
  }

  /** The entry's bytes, streamed from the archive. */
  stream(entry: TarEntry, signal?: AbortSignal): Readable {
    if (entry.size === 0) return Readable.from([]);
    return createReadStream(this.file, {
      start: entry.offset,
      end: entry.offset + entry.size - 1,
      highWaterMark: 1 << 20,
      signal,
    });
  }

  async readSmall(entry: TarEntry, max: number): Promise<Buffer> {
    if (entry.size > max) throw corrupt(this.file, `${entry.name} is larger than ${max} bytes`);
    const handle = await fs.open(this.file, 'r');
    try {
      const buf = Buffer.alloc(entry.size);
      const { bytesRead } = await handle.read(buf, 0, entry.size, entry.offset);
      if (bytesRead !== entry.size) throw corrupt(this.file, `${entry.name} is cut short`);
      return buf;
    } finally {
      await handle.close();
    }
  }
}

function corrupt(file: string, detail: string): TarCorruptError {
  return new TarCorruptError(file, detail);
}

export function normaliseName(name: string): string {
  let n = name.replace(/\\/g, '/');
  while (n.startsWith('./')) n = n.slice(2);
  n = n.replace(/^\/+/, '').replace(/\/+$/, '');
  return n === '.' ? '' : n;
}

/** Reads every header; data blocks are skipped, not read. */
export async function indexTar(file: string): Promise<Map<string, TarEntry>> {
  const handle = await fs.open(file, 'r');
  try {
    const { size: fileSize } = await handle.stat();
    const entries = new Map<string, TarEntry>();
    const header = Buffer.alloc(BLOCK);
    let pos = 0;
    let longName: string | undefined;
    let pax: Record<string, string> = {};
    let globalPax: Record<string, string> = {};
    for (;;) {
      const { bytesRead } = await handle.read(header, 0, BLOCK, pos);
      if (bytesRead === 0 && pos > 0) break; // end without the two zero blocks: tolerated, as GNU tar does
      if (bytesRead < BLOCK) throw corrupt(file, `header at byte ${pos} is cut short`);
      if (header.every((b) => b === 0)) break; // end-of-archive marker
      checkChecksum(file, header, pos);
      const typeflag = String.fromCharCode(header[156]!);
      const magic = header.toString('latin1', 257, 263);
      let size = parseNumber(file, header, 124, 12, pos);
      const dataOffset = pos + BLOCK;
      const isExtension = typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K';
      // A pax header's path and size describe the entry that follows it.
      const merged = isExtension ? {} : { ...globalPax, ...pax };
      if (merged.size !== undefined && /^\d+$/.test(merged.size)) size = Number(merged.size);
      if (!Number.isSafeInteger(size) || dataOffset + size > fileSize) {
        throw corrupt(file, `the entry at byte ${pos} runs past the end of the file`);
      }
      const next = dataOffset + Math.ceil(size / BLOCK) * BLOCK;

      if (typeflag === 'x' || typeflag === 'g') {
        const records = parsePax(file, await readAt(file, handle, dataOffset, size), pos);
        if (typeflag === 'x') pax = records;
        else globalPax = { ...globalPax, ...records };
        pos = next;
        continue;
      }
      if (typeflag === 'L') {
        longName = (await readAt(file, handle, dataOffset, size)).toString('utf8').replace(/\0.*$/s, '');
        pos = next;
        continue;
      }
      if (typeflag === 'K') {
        pos = next;
        continue;
      }

      let name = cString(header, 0, 100);
      if (magic === 'ustar\0') {
        const prefix = cString(header, 345, 155);
        if (prefix) name = `${prefix}/${name}`;
      }
      if (longName !== undefined) name = longName;
      if (merged.path !== undefined) name = merged.path;
      const type =
        typeflag === '0' || typeflag === '\0' || typeflag === '7'
          ? 'file'
          : typeflag === '5'
            ? 'directory'
            : 'other';
      const entryName = normaliseName(name);
      if (entryName) entries.set(entryName, { name: entryName, type, size, offset: dataOffset });
      longName = undefined;
      pax = {};
      pos = next;
    }
    return entries;
  } finally {
    await handle.close();
  }
}

async function readAt(file: string, handle: fs.FileHandle, offset: number, length: number): Promise<Buffer> {
  if (length > 1 << 20) throw new TarCorruptError(file, `tar extension header of ${length} bytes`);
  const buf = Buffer.alloc(length);
  await handle.read(buf, 0, length, offset);
  return buf;
}

function cString(buf: Buffer, start: number, length: number): string {
  const field = buf.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** Octal (NUL/space padded), or GNU base-256 for sizes of 8 GiB and more. */
function parseNumber(file: string, buf: Buffer, start: number, length: number, pos: number): number {
  const first = buf[start]!;
  if (first & 0x80) {
    if (first === 0xff) throw corrupt(file, `negative size at byte ${pos}`);
    let v = first & 0x7f;
    for (let i = start + 1; i < start + length; i++) v = v * 256 + buf[i]!;
    return v;
  }
  const text = buf
    .toString('latin1', start, start + length)
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw corrupt(file, `bad number field at byte ${pos + start}`);
  return Number.parseInt(text, 8);
}

function checkChecksum(file: string, header: Buffer, pos: number): void {
  const stored = parseNumber(file, header, 148, 8, pos);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : header[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (stored !== unsigned && stored !== signed)
    throw corrupt(file, `header checksum mismatch at byte ${pos}`);
}

/** "LEN key=value\n" records. */
function parsePax(file: string, data: Buffer, pos: number): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    if (data[i] === 0) break;
    const space = data.indexOf(0x20, i);
    const len = Number(data.toString('latin1', i, space));
    if (space === -1 || !Number.isSafeInteger(len) || len <= 0 || i + len > data.length) {
      throw corrupt(file, `bad pax header at byte ${pos}`);
    }
    const record = data.toString('utf8', space + 1, i + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}
