// The partial writers on real files, the worker thread and the plain
// reference under the same tests: every byte hashed and written in order
// (across the ring's wrap-around for the thread), kept bytes hashed first on
// a resume, what was queued written when a download is abandoned, a full disk
// reported, an abort ending a wait for room. Then what only the thread has:
// each partial starts clean on a thread kept from the one before.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { PartialFile } from '../../main/engine/partial-file.js';
import { PartialWriter } from '../../main/engine/partial-writer.js';
import { PlainPartialWriter } from '../../main/engine/plain-partial-writer.js';
import { tempRoot } from '../helpers.js';

const MiB = 1 << 20;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Feeds `data` in uneven chunks (1 B to 300 kB), waiting whenever the ring is full. */
async function feed(writer: PartialFile, data: Uint8Array, signal?: AbortSignal): Promise<void> {
  const sizes = [1, 65_536, 300_001, 4_095, 131_072, 7];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length] ?? 1, data.length - at);
    const full = writer.write(data.subarray(at, at + n), signal);
    if (full) await full;
    at += n;
  }
}

const WRITERS: Array<[string, (file: string, offset: number, keepAfter?: boolean) => Promise<PartialFile>]> =
  [
    ['the worker thread', (file, offset, keepAfter) => PartialWriter.open(file, offset, keepAfter)],
    ['the plain reference', (file, offset, keepAfter) => PlainPartialWriter.open(file, offset, keepAfter)],
  ];

describe.each(WRITERS)('%s', (_name, open) => {
  it('writes and hashes every byte in order, across many turns of the ring', async () => {
    const file = path.join(await tempRoot(), 'a.partial');
    const data = randomBytes(9 * MiB + 12_345);
    const writer = await open(file, 0);
    await feed(writer, data);
    expect(await writer.digest()).toBe(sha256(data));
    await writer.finish();
    expect(Buffer.compare(await readFile(file), data)).toBe(0);
  });

  it('on a resume, hashes the kept bytes first and appends after them', async () => {
    const file = path.join(await tempRoot(), 'b.partial');
    const data = randomBytes(6 * MiB + 3);
    const cut = 2 * MiB + 17;
    // What an earlier attempt left, with a tail beyond the resume point that must go.
    await writeFile(file, Buffer.concat([data.subarray(0, cut), Buffer.from('stale tail')]));
    const writer = await open(file, cut);
    await writer.keptHashed();
    await feed(writer, data.subarray(cut));
    expect(await writer.digest()).toBe(sha256(data));
    await writer.finish();
    expect(Buffer.compare(await readFile(file), data)).toBe(0);
  });

  it('bytes written ahead at their offsets are hashed once the prefix reaches them, in one pass', async () => {
    const file = path.join(await tempRoot(), 'r.partial');
    const data = randomBytes(7 * MiB + 5);
    const a = 2 * MiB + 11;
    const b = 5 * MiB + 3;
    const writer = await open(file, 0);
    // Three connections: [0, a) in order, [a, b) and [b, end) ahead, the last placed first.
    await writer.writeAt(data.subarray(b), b);
    await feed(writer, data.subarray(0, MiB));
    await writer.writeAt(data.subarray(a, b), a);
    await feed(writer, data.subarray(MiB, a));
    expect(writer.writtenTo()).toBeLessThanOrEqual(a);
    await writer.absorb(b - a);
    await writer.absorb(data.length - b);
    expect(await writer.digest()).toBe(sha256(data));
    expect(writer.writtenTo()).toBe(data.length);
    await writer.finish();
    expect(Buffer.compare(await readFile(file), data)).toBe(0);
  });

  it('an absorb comes after everything queued before it, then writing in order goes on after it', async () => {
    const file = path.join(await tempRoot(), 's.partial');
    const data = randomBytes(6 * MiB);
    const writer = await open(file, 0);
    await writer.writeAt(data.subarray(3 * MiB, 4 * MiB), 3 * MiB);
    // 3 MiB queued in one go: more than the thread's ring holds, so the absorb waits for the rest.
    const full = writer.write(data.subarray(0, 3 * MiB));
    const absorbed = writer.absorb(MiB);
    await full;
    await absorbed;
    await feed(writer, data.subarray(4 * MiB));
    expect(await writer.digest()).toBe(sha256(data));
    await writer.finish();
    expect(Buffer.compare(await readFile(file), data)).toBe(0);
  });

  it('a resume that keeps ranges after the prefix does not cut them off', async () => {
    const file = path.join(await tempRoot(), 't.partial');
    const data = randomBytes(4 * MiB);
    // The prefix [0, 1 MiB) and a range [3 MiB, 4 MiB) another connection completed; a hole between.
    await writeFile(file, data);
    const writer = await open(file, MiB, true);
    await writer.keptHashed();
    await feed(writer, data.subarray(MiB, 3 * MiB));
    await writer.absorb(MiB);
    expect(await writer.digest()).toBe(sha256(data));
    await writer.finish();
    expect(Buffer.compare(await readFile(file), data)).toBe(0);
  });

  it('writtenTo counts only what is in the file: not an absorb cut short, not one still waiting', async () => {
    const file = path.join(await tempRoot(), 'u.partial');
    const data = randomBytes(4 * MiB);
    const writer = await open(file, 0);
    await feed(writer, data.subarray(0, MiB));
    await writer.writeAt(data.subarray(MiB, 3 * MiB), MiB);
    const before = writer.writtenTo();
    expect(before).toBeLessThanOrEqual(MiB);
    const cut = new AbortController();
    cut.abort(new Error('cancelled by the test'));
    // Asked again and again after a cancel (what a transfer must never do, and what a checkpoint must survive).
    for (let i = 0; i < 3; i++) await writer.absorb(2 * MiB, cut.signal).catch(() => {});
    expect(writer.writtenTo()).toBeLessThanOrEqual(3 * MiB);
    await writer.abandon();
    expect(writer.writtenTo()).toBeLessThanOrEqual(3 * MiB);
    expect((await readFile(file)).length).toBeGreaterThanOrEqual(writer.writtenTo());
  });

  it('a whole kept file needs no writes: the digest is of the kept bytes', async () => {
    const file = path.join(await tempRoot(), 'c.partial');
    const data = randomBytes(3 * MiB);
    await writeFile(file, data);
    const writer = await open(file, data.length);
    expect(await writer.digest()).toBe(sha256(data));
    await writer.finish();
  });

  it('abandoned, it still writes every queued byte, so a later attempt resumes after them', async () => {
    const file = path.join(await tempRoot(), 'd.partial');
    const data = randomBytes(5 * MiB + 99);
    const writer = await open(file, 0);
    await feed(writer, data);
    await writer.abandon();
    expect(Buffer.compare(await readFile(file), data)).toBe(0);
  });

  it('a full disk reaches the caller as ENOSPC, from write() or digest()', async (t) => {
    // /dev/full answers every write with ENOSPC: a full disk without a mount.
    let writer: PartialFile;
    try {
      writer = await open('/dev/full', 0);
    } catch {
      return t.skip();
    }
    const data = randomBytes(4 * MiB);
    const outcome = await feed(writer, data)
      .then(() => writer.digest())
      .then(
        () => undefined,
        (err: NodeJS.ErrnoException) => err,
      );
    expect(outcome?.code).toBe('ENOSPC');
    await writer.abandon();
  });

  it('an abort ends a wait for room while the kept bytes are still being hashed', async () => {
    const file = path.join(await tempRoot(), 'f.partial');
    // A sparse 2 GiB file: nothing on disk, about a second of sha256 to get through.
    await writeFile(file, '');
    await truncate(file, 2048 * MiB);
    const writer = await open(file, 2048 * MiB);
    const controller = new AbortController();
    const reason = new Error('cancelled by the test');
    setTimeout(() => controller.abort(reason), 20);
    // The thread's ring holds 1 MiB, the plain writer queues 4 MiB: both must wait, busy with the prefix.
    await expect(feed(writer, randomBytes(8 * MiB), controller.signal)).rejects.toBe(reason);
    await writer.abandon();
  });
});

describe('PartialWriter (the thread only)', () => {
  it('a write cut short while waiting for room: writtenTo stops at what was copied, and the writer takes no more', async () => {
    const file = path.join(await tempRoot(), 'v.partial');
    // A sparse kept prefix the thread hashes first (about a second), so the ring stays full.
    await writeFile(file, '');
    await truncate(file, 2048 * MiB);
    const writer = await PartialWriter.open(file, 2048 * MiB);
    const cut = new AbortController();
    setTimeout(() => cut.abort(new Error('cancelled by the test')), 20);
    await expect(writer.write(randomBytes(3 * MiB), cut.signal)).rejects.toThrow('cancelled by the test');
    // At most the 1 MiB ring was copied of the 3 MiB chunk.
    expect(writer.writtenTo()).toBeLessThanOrEqual(2048 * MiB + MiB);
    expect(() => writer.write(randomBytes(10))).toThrow('cut short');
    await writer.abandon();
    expect(writer.writtenTo()).toBeLessThanOrEqual(2048 * MiB + MiB);
  });

  it('a writer used after finish() cannot reach the next partial, which now has its thread and ring', async () => {
    const dir = await tempRoot();
    const done = await PartialWriter.open(path.join(dir, 'h1.partial'), 0);
    await feed(done, randomBytes(MiB));
    await done.digest();
    await done.finish();
    const file = path.join(dir, 'h2.partial');
    const data = randomBytes(3 * MiB + 1);
    const next = await PartialWriter.open(file, 0);
    expect(next.threadId).toBe(done.threadId);
    await feed(next, data.subarray(0, MiB));
    // What download.ts does when the rename after finish() fails.
    await done.abandon();
    expect(() => done.write(randomBytes(10))).toThrow('already finished or abandoned');
    await feed(next, data.subarray(MiB));
    expect(await next.digest()).toBe(sha256(data));
    await next.finish();
    expect(Buffer.compare(await readFile(file), data)).toBe(0);
  });

  it('the next partial after an abandoned one and a failed one is written and hashed from a clean start', async () => {
    // The thread is kept between partials (ThreadLender): nothing of one job may leak into the next.
    const dir = await tempRoot();
    const abandoned = await PartialWriter.open(path.join(dir, 'g1.partial'), 0);
    await feed(abandoned, randomBytes(3 * MiB));
    await abandoned.abandon();
    const failed = await PartialWriter.open('/dev/full', 0).catch(() => undefined);
    if (failed) {
      await feed(failed, randomBytes(2 * MiB))
        .then(() => failed.digest())
        .catch(() => {});
      await failed.abandon();
    }
    const file = path.join(dir, 'g2.partial');
    const data = randomBytes(2 * MiB + 5);
    const writer = await PartialWriter.open(file, 0);
    expect(writer.threadId).toBe(abandoned.threadId);
    await feed(writer, data);
    expect(await writer.digest()).toBe(sha256(data));
    await writer.finish();
    expect(Buffer.compare(await readFile(file), data)).toBe(0);
  });
});

describe('PartialWriter in a process started with Node options', () => {
  // --input-type=module would make the eval'd thread an ES module (no `require`);
  // process-wide options make `new Worker` throw if they are passed on to it.
  for (const options of [['--input-type=module'], ['--max-old-space-size=4096', '--expose-gc']]) {
    it(`still writes and hashes under ${options.join(' ')}`, async () => {
      const file = path.join(await tempRoot(), 'e.partial');
      const module = pathToFileURL(
        path.resolve(import.meta.dirname, '../../main/engine/partial-writer.ts'),
      ).href;
      const script = `
        const { PartialWriter } = await import(${JSON.stringify(module)});
        const writer = await PartialWriter.open(${JSON.stringify(file)}, 0);
        writer.write(new TextEncoder().encode('hello'));
        console.log(await writer.digest());
        await writer.finish();`;
      const args = options.includes('--input-type=module')
        ? ['-e', script]
        : ['--input-type=module', '-e', script];
      const child = spawnSync(process.execPath, ['--import', 'tsx', ...options, ...args], {
        encoding: 'utf8',
      });
      expect(child.stderr).toBe('');
      expect(child.stdout.trim()).toBe(sha256(new TextEncoder().encode('hello')));
      expect(await readFile(file, 'utf8')).toBe('hello');
    });
  }
});
