// Content-defined chunking (issue #15, delta updates): cut points chosen by the
// bytes themselves, so an insertion early in a tarball moves only the chunks
// around it and every later chunk is found again in the next version. The
// publisher's `manifest build` and the engine must cut alike, so everything
// that decides a cut is fixed here and named by CHUNKER_ID.
//
// The method is the gear hash of FastCDC (Xia et al., 2016): one table lookup,
// a shift and an add per byte; no cut is looked for before `min` bytes, a
// stricter mask applies until `avg` and a looser one after it (normalised
// chunking, which narrows the spread of sizes), and `max` forces a cut.
import { createHash } from 'node:crypto';

export interface ChunkerParams {
  readonly min: number;
  readonly avg: number;
  readonly max: number;
}

/** 16/64/256 KiB: about 16 index entries per MiB, so the index stays near 0.1 % of the tarball. */
export const DEFAULT_CHUNKER: ChunkerParams = { min: 16 << 10, avg: 64 << 10, max: 256 << 10 };

/** Names the cutting rule in a chunk index; a client uses an index only when it cuts the same way. */
export const CHUNKER_ID = 'gear32-normalised-2';

// 256 pseudo-random 32-bit values, the same on every machine: derived from
// sha256 so nothing of it depends on a random source or a platform.
const GEAR = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    table[i] = createHash('sha256').update(`vm-cache gear ${i}`).digest().readUInt32BE(0);
  }
  return table;
})();

/**
 * The mask for an average of `avg` bytes, `extra` bits stricter (positive) or
 * looser (negative). A left-shifting 32-bit gear hash carries the most recent
 * bytes in its high bits' history, so the masks take the top bits.
 */
function topBits(avg: number, extra: number): number {
  const bits = Math.round(Math.log2(avg)) + extra;
  return bits <= 0 ? 0 : (0xffffffff << (32 - Math.min(32, bits))) >>> 0;
}

/**
 * Finds cut points across any number of pushed buffers: `push` returns the
 * absolute offsets (from the start of the stream) where a chunk ends inside
 * what was pushed; `end` returns the last offset when bytes remain.
 */
export class Chunker {
  private readonly maskStrict: number;
  private readonly maskLoose: number;
  private hash = 0;
  /** Bytes of the current chunk seen so far. */
  private inChunk = 0;
  private offset = 0;

  constructor(private readonly params: ChunkerParams = DEFAULT_CHUNKER) {
    if (!(params.min > 0 && params.min <= params.avg && params.avg <= params.max)) {
      throw new RangeError(`chunker: need 0 < min <= avg <= max, got ${JSON.stringify(params)}`);
    }
    this.maskStrict = topBits(params.avg, 2);
    this.maskLoose = topBits(params.avg, -2);
  }

  push(bytes: Uint8Array): number[] {
    const cuts: number[] = [];
    const { min, avg, max } = this.params;
    let hash = this.hash;
    let inChunk = this.inChunk;
    for (let i = 0; i < bytes.length; i++) {
      inChunk++;
      // Below `min` no cut is possible: the hash restarts at min - 32 bytes in,
      // so a cut depends only on the 32 bytes before it.
      if (inChunk <= min - 32) continue;
      hash = ((hash << 1) + GEAR[bytes[i]!]!) >>> 0;
      if (inChunk < min) continue;
      const mask = inChunk < avg ? this.maskStrict : this.maskLoose;
      if ((hash & mask) === 0 || inChunk >= max) {
        cuts.push(this.offset + i + 1);
        inChunk = 0;
        hash = 0;
      }
    }
    this.offset += bytes.length;
    this.hash = hash;
    this.inChunk = inChunk;
    return cuts;
  }

  /** The end of the last chunk, or undefined when the stream ended on a cut (or was empty). */
  end(): number | undefined {
    return this.inChunk > 0 ? this.offset : undefined;
  }
}
