// The byte ranges of one tarball that connections fetch at once, as plain
// data: which bytes are on disk, which a connection is fetching, and which are
// still to be had. No I/O here, so the rules (who takes what, what a
// checkpoint records, what a resume keeps) are tested on their own.

/** A run of the tarball: bytes [start, at) are in the file, [at, end) still to come. */
export interface Span {
  readonly start: number;
  at: number;
  /** Moves down when an idle connection takes over the rest of this span. */
  end: number;
  /** A connection is fetching it. */
  busy: boolean;
  /** Bytes handed to the file but not yet counted in `at` (a positioned write in flight). */
  inFlight: number;
  /** Bytes per second of the connection on it, lately (0 until measured). */
  rate: number;
}

/** [start, end) byte ranges, sorted, not touching: what a sidecar records as whole. */
export type Ranges = Array<[number, number]>;

/** The most ranges a sidecar may record; a resume ignores a sidecar with more. */
export const MAX_RANGES = 1024;

export class Spans {
  /** Sorted and contiguous, from the hashed prefix to the end of the tarball. */
  private list: Span[] = [];

  /**
   * The bytes after `from` (the in-order prefix), with `done` the ranges
   * after it a previous attempt completed.
   */
  constructor(from: number, size: number, done: Ranges = []) {
    let at = from;
    for (const [s, e] of done) {
      if (e <= at) continue;
      const start = Math.max(s, at);
      if (start > at) this.list.push(span(at, at, start));
      this.list.push(span(start, e, e));
      at = e;
    }
    if (at < size || this.list.length === 0) this.list.push(span(at, at, size));
  }

  /** The spans from the hashed prefix on, in order. */
  all(): readonly Span[] {
    return this.list;
  }

  /** The span that holds byte `offset` (or the last one, at the very end). */
  at(offset: number): Span | undefined {
    return this.list.find((s) => s.start <= offset && offset < s.end);
  }

  /** Forgets the spans wholly before `offset` (hashed: no connection needs them any more). */
  dropBefore(offset: number): void {
    const keep = this.list.findIndex((s) => s.end > offset);
    this.list = keep < 0 ? [] : this.list.slice(keep);
  }

  /**
   * Work for an idle connection that fetches at about `rate` bytes/s: the
   * first span nobody is fetching, else the tail of the busy span that would
   * finish last, cut so both finish about together. Undefined when nothing
   * is worth a request (every remainder under `minPiece`).
   */
  claim(rate: number, minPiece: number): Span | undefined {
    const idle = this.list.find((s) => !s.busy && s.at < s.end);
    if (idle) {
      idle.busy = true;
      idle.rate = rate;
      return idle;
    }
    let slowest: Span | undefined;
    let longest = -1;
    for (const s of this.list) {
      const left = s.end - s.at - s.inFlight;
      if (!s.busy || left < 2 * minPiece) continue;
      // A connection not yet measured is taken as fast as the newcomer.
      const time = left / Math.max(1, s.rate || rate || 1);
      if (time > longest) {
        longest = time;
        slowest = s;
      }
    }
    if (!slowest) return undefined;
    const from = slowest.at + slowest.inFlight;
    const left = slowest.end - from;
    const theirs = slowest.rate || rate || 1;
    const mine = rate || theirs;
    // The owner keeps what it fetches in the time the newcomer takes for the rest.
    let cut = from + Math.floor((left * theirs) / (theirs + mine));
    cut = Math.min(Math.max(cut, from + Math.floor(minPiece / 4)), slowest.end - minPiece);
    const taken = span(cut, cut, slowest.end);
    taken.busy = true;
    taken.rate = rate;
    slowest.end = cut;
    this.list.splice(this.list.indexOf(slowest) + 1, 0, taken);
    return taken;
  }

  /**
   * What a checkpoint records as in the file: `[0, whole)` (what the writer
   * has on disk of its in-order bytes, which run to `frontier`) and the bytes
   * other connections placed ahead of the frontier, merged. Bytes between
   * `whole` and `frontier` are still in the writer's queue: not recorded.
   */
  ranges(whole: number, frontier: number): Ranges {
    const out: Ranges = whole > 0 ? [[0, whole]] : [];
    for (const s of this.list) {
      const from = Math.max(s.start, frontier);
      if (s.at <= from) continue;
      const last = out[out.length - 1];
      if (last && last[1] >= from) last[1] = Math.max(last[1], s.at);
      else out.push([from, s.at]);
    }
    return out;
  }
}

function span(start: number, at: number, end: number): Span {
  return { start, at, end, busy: false, inFlight: 0, rate: 0 };
}

/**
 * The ranges a sidecar recorded, if they make sense for a file of `size`
 * bytes that is `length` bytes long now (anything past its end is not there):
 * the prefix to resume after, and the ranges after it. Undefined for a list
 * that is not ours (unsorted, overlapping, too long, out of bounds).
 */
export function keptRanges(
  recorded: unknown,
  size: number,
  length: number,
): { prefix: number; done: Ranges } | undefined {
  if (!Array.isArray(recorded) || recorded.length > MAX_RANGES) return undefined;
  const done: Ranges = [];
  let last = 0;
  for (const r of recorded) {
    if (!Array.isArray(r) || r.length !== 2) return undefined;
    const [s, e] = r as unknown[];
    if (!Number.isSafeInteger(s) || !Number.isSafeInteger(e)) return undefined;
    const start = s as number;
    const end = e as number;
    if (start < last || end <= start || end > size) return undefined;
    last = end;
    const cut = Math.min(end, length);
    if (cut <= start) continue;
    const prev = done[done.length - 1];
    if (prev && prev[1] === start) prev[1] = cut;
    else done.push([start, cut]);
  }
  const first = done[0];
  const prefix = first && first[0] === 0 ? first[1] : 0;
  return { prefix, done: prefix > 0 ? done.slice(1) : done };
}
