// sha256 as the engine computes it outside a download's one pass: over a
// small document in memory, or over a whole file on disk (a tarball found in
// place, a verify).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** sha256 of bytes in memory (a manifest, a record), lower-case hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `onBytes` hears of each chunk hashed (a move's verify reports progress through it). */
export async function sha256File(
  file: string,
  signal?: AbortSignal,
  onBytes?: (bytes: number) => void,
): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20, signal })) {
    hash.update(chunk as Buffer);
    onBytes?.((chunk as Buffer).length);
  }
  return hash.digest('hex');
}
