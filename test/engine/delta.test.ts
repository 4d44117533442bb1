// Delta updates through the sync pipeline, against the artifact server over a
// real socket: a new version is built from the cached one's chunks and only
// the changed ranges are fetched; everything that cannot work (no Range, a
// hostile index, a local file changed since it was indexed) still ends in the
// right bytes.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ensureVmCacheSynced,
  getCachedManifestPath,
  importVmCache,
  indexLocalFiles,
  planDelta,
  type SyncProgress,
  serializeChunkIndex,
  verifyVmCache,
} from '../../main/engine/index.js';
import { coarsen } from '../../main/engine/repair.js';
import { listFiles, runTsChild, server, tempRoot } from '../helpers.js';
import { indexOf, publish, release, sha256, twoVersions } from './delta-fixtures.js';

async function setUp() {
  const dir = await tempRoot();
  const root = await tempRoot();
  const { v1, v2 } = twoVersions();
  const r1 = await release('1', v1);
  const r2 = await release('2', v2);
  await publish(dir, r1, 1);
  const s = await server({ dir });
  await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl });
  return { dir, root, s, r1, r2 };
}

function sync(root: string, manifestUrl: string, events: SyncProgress[] = [], extra = {}) {
  return ensureVmCacheSynced({ root, manifestUrl, onProgress: (p) => events.push(p), ...extra });
}

/** What the ideal plan fetches: the chunks of v2 that v1 does not hold, merged as the engine merges. */
async function idealFetch(v1: Buffer, v2: Buffer, dir: string): Promise<number> {
  const file = path.join(dir, 'v1.bin');
  await writeFile(file, v1);
  const index = await indexOf(v2);
  const plan = planDelta(index, await indexLocalFiles([file], index.chunker));
  return plan.fetchBytes;
}

describe('delta update', () => {
  it('builds v2 from v1 fetching only the missing ranges; the result verifies and v1 is pruned after', async () => {
    const { dir, root, s, r1, r2 } = await setUp();
    expect(s.bytesServed(r1.key)).toBe(r1.bytes.length);
    await publish(dir, r2, 2);
    const events: SyncProgress[] = [];
    const result = await sync(root, s.manifestUrl, events);
    expect(result.downloaded).toEqual([r2.key]);

    const placed = await readFile(path.join(root, 'cache', r2.key));
    expect(sha256(placed)).toBe(sha256(r2.bytes));
    expect(existsSync(path.join(root, 'cache', r1.key))).toBe(false);

    const fetched = s.bytesServed(r2.key);
    const ideal = await idealFetch(r1.bytes, r2.bytes, await tempRoot());
    expect(fetched).toBe(ideal);
    // About 5 % of v2 changed: well under a fifth of it comes over the network.
    expect(fetched).toBeLessThan(r2.bytes.length * 0.15);
    expect(fetched).toBeGreaterThan(0);
    // Every request for v2's tarball asked for a single range.
    const asked = s.requests.filter((r) => r.path === r2.key);
    expect(asked.length).toBeGreaterThan(1);
    for (const r of asked) expect(r.range).toMatch(/^bytes=\d+-\d+$/);

    const last = events.at(-1)!;
    const a = last.artifacts.find((x) => x.key === r2.key)!;
    expect(a.delta).toMatchObject({ fetchBytes: fetched, reuseBytes: r2.bytes.length - fetched });
    expect(a.delta!.reusedBytes).toBe(a.delta!.reuseBytes);
    expect(a.delta!.fallback).toBeUndefined();
    expect(last.phase).toBe('done');

    // The index of what the cache holds is kept for the next update; v1's went with v1.
    const kept = await readdir(path.join(root, 'state', 'chunk-indexes'));
    expect(kept).toEqual([`${sha256(r2.bytes)}.json`]);
  });

  it('a first install fetches no chunk index (nothing to reuse), then keeps it for the next update', async () => {
    const dir = await tempRoot();
    const root = await tempRoot();
    const r1 = await release('1', twoVersions().v1);
    await publish(dir, r1, 1);
    const s = await server({ dir });
    await sync(root, s.manifestUrl);
    const indexRequests = s.requests.filter((r) => r.path.endsWith('.chunks.json'));
    // Fetched once, after the tarball: for the next update, not for this one.
    expect(indexRequests).toHaveLength(1);
    expect(s.requests.findIndex((r) => r.path.endsWith('.chunks.json'))).toBeGreaterThan(
      s.requests.findIndex((r) => r.path === r1.key),
    );
    expect(await readdir(path.join(root, 'state', 'chunk-indexes'))).toEqual([`${sha256(r1.bytes)}.json`]);
  });

  it('a cache from before delta updates (no kept index) cuts the cached file itself and still reuses it', async () => {
    const { dir, root, s, r2 } = await setUp();
    const { rm } = await import('node:fs/promises');
    await rm(path.join(root, 'state', 'chunk-indexes'), { recursive: true });
    await publish(dir, r2, 2);
    await sync(root, s.manifestUrl);
    expect(sha256(await readFile(path.join(root, 'cache', r2.key)))).toBe(sha256(r2.bytes));
    expect(s.bytesServed(r2.key)).toBeLessThan(r2.bytes.length * 0.15);
  });

  it('with delta: false, or a manifest without an index, the tarball is downloaded whole', async () => {
    const { dir, root, s, r2 } = await setUp();
    await publish(dir, r2, 2);
    await sync(root, s.manifestUrl, [], { delta: false });
    expect(s.bytesServed(r2.key)).toBe(r2.bytes.length);

    const other = await setUp();
    await publish(other.dir, { ...other.r2, noIndex: true }, 2);
    await sync(other.root, other.s.manifestUrl);
    expect(other.s.bytesServed(other.r2.key)).toBe(other.r2.bytes.length);
  });

  it('a server that ignores Range: the delta gives way to one whole download, and says why', async () => {
    const { dir, root, s, r2 } = await setUp();
    await publish(dir, r2, 2);
    s.setFault(r2.key, { ignoreRange: true });
    const events: SyncProgress[] = [];
    await sync(root, s.manifestUrl, events);
    expect(sha256(await readFile(path.join(root, 'cache', r2.key)))).toBe(sha256(r2.bytes));
    const a = events.at(-1)!.artifacts.find((x) => x.key === r2.key)!;
    expect(a.delta?.fallback).toMatch(/does not answer byte ranges/);
    // The one range request's answer was cut off early, then one whole body.
    const whole = s.requests.filter((r) => r.path === r2.key && r.range === undefined);
    expect(whole).toHaveLength(1);
    expect(s.bytesServed(r2.key)).toBeLessThan(r2.bytes.length * 2);
  });

  it('a connection cut mid-range: the retry goes on from the last whole chunk placed, and the result verifies', async () => {
    const { dir, root, s, r1, r2 } = await setUp();
    await publish(dir, r2, 2);
    s.setFault(r2.key, { resetAtByte: 100_000, times: 1 });
    const ideal = await idealFetch(r1.bytes, r2.bytes, await tempRoot());
    const events: SyncProgress[] = [];
    await sync(root, s.manifestUrl, events, { retries: 2, retryPolicy: { baseDelayMs: 1, maxDelayMs: 1 } });
    expect(events.some((e) => e.attempt === 2)).toBe(true);
    expect(sha256(await readFile(path.join(root, 'cache', r2.key)))).toBe(sha256(r2.bytes));
    // Asked for again: the cut range's first 100 kB, and at most one range fetched ahead of it and not
    // yet placed (two are asked for at once): never a chunk the partial already held.
    const local = path.join(await tempRoot(), 'v1.bin');
    await writeFile(local, r1.bytes);
    const index = await indexOf(r2.bytes);
    const plan = planDelta(index, await indexLocalFiles([local], index.chunker));
    const ahead = Math.max(...plan.fetch.map((r) => r.length));
    expect(s.bytesServed(r2.key)).toBeLessThanOrEqual(ideal + 100_000 + ahead);
  });

  it('a cached file changed since it was indexed: its bad chunks come from the server instead', async () => {
    const { dir, root, s, r1, r2 } = await setUp();
    const file = path.join(root, 'cache', r1.key);
    const damaged = Buffer.from(await readFile(file));
    for (let at = 0; at < damaged.length; at += 1 << 20) damaged.writeUInt8(damaged.readUInt8(at) ^ 0xff, at);
    await writeFile(file, damaged);
    await publish(dir, r2, 2);
    await sync(root, s.manifestUrl);
    expect(sha256(await readFile(path.join(root, 'cache', r2.key)))).toBe(sha256(r2.bytes));
    const ideal = await idealFetch(r1.bytes, r2.bytes, await tempRoot());
    // The six damaged chunks (at most 256 KiB each) on top of the plan.
    expect(s.bytesServed(r2.key)).toBeGreaterThan(ideal);
    expect(s.bytesServed(r2.key)).toBeLessThanOrEqual(ideal + 6 * (256 << 10));
  });
});

describe('a hostile or broken chunk index', () => {
  /** Publishes v2 with `doctor` applied to its index text; the manifest names the doctored bytes. */
  async function withIndex(doctor: (text: string) => string) {
    const env = await setUp();
    await publish(env.dir, { ...env.r2, indexText: doctor(env.r2.indexText) }, 2);
    const events: SyncProgress[] = [];
    await sync(env.root, env.s.manifestUrl, events);
    const placed = await readFile(path.join(env.root, 'cache', env.r2.key));
    expect(sha256(placed)).toBe(sha256(env.r2.bytes));
    const a = events.at(-1)!.artifacts.find((x) => x.key === env.r2.key)!;
    // Nothing written outside the root's own folders.
    expect((await listFiles(env.root)).every((f) => f.startsWith('cache/') || f.startsWith('state/'))).toBe(
      true,
    );
    return { ...env, fallback: a.delta?.fallback };
  }

  const edit = (
    text: string,
    change: (doc: { chunks: [number, string][]; chunker: { max: number } }) => void,
  ) => {
    const doc = JSON.parse(text);
    change(doc);
    return `${JSON.stringify(doc)}\n`;
  };

  it('lengths that do not add up to the tarball: refused, downloaded whole', async () => {
    const { fallback, s, r2 } = await withIndex((t) =>
      edit(t, (d) => {
        d.chunks[3]![0] += 1;
      }),
    );
    expect(fallback).toMatch(/chunks add up to/);
    expect(s.bytesServed(r2.key)).toBe(r2.bytes.length);
  });

  it('a chunk over the maximum, and a maximum of a gigabyte: refused', async () => {
    const a = await withIndex((t) =>
      edit(t, (d) => {
        // The first six chunks (about 384 KiB) listed as one.
        const merged = d.chunks.slice(0, 6).reduce((n, [length]) => n + length, 0);
        d.chunks.splice(0, 6, [merged, d.chunks[0]![1]]);
      }),
    );
    expect(a.fallback).toMatch(/over its maximum of 262144/);
    const b = await withIndex((t) =>
      edit(t, (d) => {
        d.chunker.max = 1 << 30;
      }),
    );
    expect(b.fallback).toMatch(/up to 1073741824 bytes/);
  });

  it('another cutting rule (64-byte chunks) or a short chunk mid-index: refused before any cached file is cut', async () => {
    const tiny = await withIndex((t) =>
      edit(t, (d) => {
        Object.assign(d.chunker, { min: 64, avg: 64, max: 64 });
      }),
    );
    expect(tiny.fallback).toMatch(/cut at 64\/64\/64 bytes, not 16384\/65536\/262144/);
    const short = await withIndex((t) =>
      edit(t, (d) => {
        // The first chunk split in two: lengths still add up, sha256s are not even looked at.
        const [length] = d.chunks[0]!;
        d.chunks.splice(0, 1, [100, '0'.repeat(64)], [length - 100, '0'.repeat(64)]);
      }),
    );
    expect(short.fallback).toMatch(/a chunk of 100 bytes is under its minimum/);
  });

  it('a chunk sha256 that does not match the bytes: caught when fetched, downloaded whole', async () => {
    const { fallback } = await withIndex((t) =>
      edit(t, (d) => {
        // The rewritten region is fetched: lie about the chunk that begins it.
        let end = 0;
        const i = d.chunks.findIndex(([length]) => {
          end += length;
          return end > (1 << 20) + (64 << 10);
        });
        d.chunks[i]![1] = '0'.repeat(64);
      }),
    );
    expect(fallback).toMatch(/do not match its chunk index/);
  });

  it('chunks listed in another order (each sha256 real): the result fails the whole sha256, downloaded whole', async () => {
    const { fallback } = await withIndex((t) =>
      edit(t, (d) => {
        const a = d.chunks[0]!;
        d.chunks[0] = d.chunks[1]!;
        d.chunks[1] = a;
      }),
    );
    expect(fallback).toMatch(/put together have sha256/);
  });

  it('index bytes that do not match the manifest: not used', async () => {
    const env = await setUp();
    await publish(env.dir, env.r2, 2);
    // The manifest names the real index; the server sends another one.
    await writeFile(
      path.join(env.dir, `${env.r2.key}.chunks.json`),
      serializeChunkIndex(await indexOf(env.r1.bytes)),
    );
    const events: SyncProgress[] = [];
    await sync(env.root, env.s.manifestUrl, events);
    expect(sha256(await readFile(path.join(env.root, 'cache', env.r2.key)))).toBe(sha256(env.r2.bytes));
    const a = events.at(-1)!.artifacts.find((x) => x.key === env.r2.key)!;
    expect(a.delta?.fallback).toMatch(/chunk index .* (refused|could not be fetched)/);
    expect(env.s.bytesServed(env.r2.key)).toBe(env.r2.bytes.length);
  });
});

describe('a delta update interrupted', () => {
  /** v1 cached, v2 published and dripped, so the delta takes a few seconds; the plan's ranges to fetch. */
  async function slowUpdate() {
    const env = await setUp();
    await publish(env.dir, env.r2, 2);
    env.s.setFault(env.r2.key, { dripBytesPerSec: 200_000 });
    const local = path.join(await tempRoot(), 'v1.bin');
    await writeFile(local, env.r1.bytes);
    const index = await indexOf(env.r2.bytes);
    const plan = planDelta(index, await indexLocalFiles([local], index.chunker));
    const partial = path.join(env.root, 'cache', `${env.r2.key}.partial`);
    /**
     * True once the partial holds more than `bytes`; false once `over()` says the sync ended
     * first (a partial renamed into place would otherwise be waited for forever).
     */
    const partialPast = async (bytes: number, over: () => boolean) => {
      const { stat } = await import('node:fs/promises');
      for (;;) {
        const size = (await stat(partial).catch(() => undefined))?.size ?? 0;
        if (size > bytes) return true;
        if (over()) return false;
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    return { ...env, index, plan, partial, partialPast };
  }

  // The other ranges drip beside the first, which is the largest: once it is placed, the rest
  // of the delta is a few hundred ms of local copying, a hash and an fsync, and a kill or cancel
  // sent from a loaded machine can come after the end (the partial already renamed into place).
  // Such a run tests nothing: it is tried again from a fresh root, up to three times.
  const TRIES = 3;

  /** Where a resumed delta goes on from: the last whole chunk the partial holds. */
  function lastBoundary(index: Awaited<ReturnType<typeof indexOf>>, kept: number): number {
    let at = 0;
    for (const c of index.chunks) {
      if (at + c.length > kept) break;
      at += c.length;
    }
    return at;
  }

  it('killed (SIGKILL) mid-delta: the next sync goes on from the partial and fetches nothing before the cut again', async () => {
    let env: Awaited<ReturnType<typeof slowUpdate>>;
    for (let attempt = 1; ; attempt++) {
      env = await slowUpdate();
      const child = runTsChild(path.join(import.meta.dirname, 'fixtures', 'sync-child.ts'), [
        env.root,
        env.s.manifestUrl,
      ]);
      let exited = false;
      void child.done.then(() => {
        exited = true;
      });
      const first = env.plan.fetch[0]!;
      const past = await env.partialPast(first.offset + first.length, () => exited);
      child.kill('SIGKILL');
      const out = await child.done;
      if (past && out.code === null && existsSync(env.partial)) break;
      if (attempt === TRIES) {
        throw new Error(`the sync ended before its kill, ${TRIES} times (exit ${out.code}): ${out.stderr}`);
      }
    }
    const { root, s, r2, index, plan, partial } = env;
    const firstRange = plan.fetch[0]!;
    const { stat } = await import('node:fs/promises');
    const cut = lastBoundary(index, (await stat(partial)).size);
    expect(cut).toBeGreaterThanOrEqual(firstRange.offset + firstRange.length);
    const meta = JSON.parse(await readFile(`${partial}.json`, 'utf8'));
    expect(meta).toMatchObject({ sha256: sha256(r2.bytes), delta: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const before = s.requests.length;
    s.setFault(r2.key, undefined);
    await sync(root, s.manifestUrl);
    expect(sha256(await readFile(path.join(root, 'cache', r2.key)))).toBe(sha256(r2.bytes));
    const again = s.requests.slice(before).filter((r) => r.path === r2.key);
    expect(again.length).toBeGreaterThan(0);
    for (const r of again) {
      const start = Number(/^bytes=(\d+)-/.exec(r.range ?? '')?.[1]);
      expect(start).toBeGreaterThanOrEqual(cut);
    }
    const refetched = again.reduce((n, r) => n + r.bytesSent, 0);
    expect(refetched).toBeLessThan(plan.fetchBytes - firstRange.length + 1);
    // Room for the tries above (each a tsx child and a few seconds of drip); a hang still fails.
  }, 90_000);

  it('killed at six random moments: the cache is v1 or v2 whole after every kill, and the sum fetched stays under one tarball', async () => {
    const { root, s, r1, r2 } = await slowUpdate();
    s.setFault(r2.key, { dripBytesPerSec: 400_000 });
    let kills = 0;
    const manifestPath = getCachedManifestPath(root);
    for (let i = 0; i < 6; i++) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures', 'sync-child.ts'), root, s.manifestUrl],
        { stdio: ['ignore', 'pipe', 'ignore'] },
      );
      const exited = new Promise<number | null>((r) => child.on('close', r));
      // A random moment after the child says it is downloading (or once it has finished).
      await Promise.race([
        new Promise<void>((r) =>
          child.stdout.on('data', (d: Buffer) => {
            if (d.toString().includes('"downloading"')) r();
          }),
        ),
        exited,
      ]);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 600)));
      child.kill('SIGKILL');
      if ((await exited) === null) kills++;
      // Whatever manifest is on disk vouches only for bytes that verify.
      const doc = existsSync(manifestPath) ? JSON.parse(await readFile(manifestPath, 'utf8')) : undefined;
      const entry = doc?.agents.agent.tarballs[Object.keys(doc.agents.agent.tarballs)[0]!];
      if (entry) expect(sha256(await readFile(path.join(root, 'cache', entry.key)))).toBe(entry.sha256);
      if (entry?.key === r2.key) break;
    }
    expect(kills).toBeGreaterThan(0);
    s.setFault(r2.key, undefined);
    await sync(root, s.manifestUrl);
    expect(sha256(await readFile(path.join(root, 'cache', r2.key)))).toBe(sha256(r2.bytes));
    expect(existsSync(path.join(root, 'cache', r1.key))).toBe(false);
    expect(s.bytesServed(r2.key)).toBeLessThan(r2.bytes.length);
    // Up to six tsx child processes one after another, each about a second of CPU before it
    // downloads: 27 s of the default 30 s on a loaded 2-core machine. No speed check: a hang still fails.
  }, 120_000);

  it('cancelled mid-delta: ERR_ABORTED, the verified prefix kept, and the next sync completes from it', async () => {
    let env: Awaited<ReturnType<typeof slowUpdate>>;
    let outcome: unknown;
    for (let attempt = 1; ; attempt++) {
      env = await slowUpdate();
      const controller = new AbortController();
      let settled = false;
      const running = ensureVmCacheSynced({
        root: env.root,
        manifestUrl: env.s.manifestUrl,
        signal: controller.signal,
      }).finally(() => {
        settled = true;
      });
      const first = env.plan.fetch[0]!;
      await env.partialPast(first.offset + first.length, () => settled);
      controller.abort();
      outcome = await running.then(
        () => 'completed before the cancel',
        (err: unknown) => err,
      );
      if (outcome !== 'completed before the cancel') break;
      if (attempt === TRIES) throw new Error(`the sync ended before its cancel, ${TRIES} times`);
    }
    const { root, s, r2, plan, partial } = env;
    const firstRange = plan.fetch[0]!;
    expect(outcome).toMatchObject({ code: 'ERR_ABORTED' });
    expect(existsSync(partial)).toBe(true);
    s.setFault(r2.key, undefined);
    const served = s.bytesServed(r2.key);
    await sync(root, s.manifestUrl);
    expect(sha256(await readFile(path.join(root, 'cache', r2.key)))).toBe(sha256(r2.bytes));
    expect(s.bytesServed(r2.key) - served).toBeLessThan(plan.fetchBytes - firstRange.length + 1);
    // Room for the tries above; a hang still fails.
  }, 90_000);
});

describe('an air-gapped import of a release with chunk indexes', () => {
  it('over a cache holding v1: copies v2 whole from a folder that lacks its index', async () => {
    const { root, r2 } = await setUp();
    const folder = await tempRoot();
    await publish(folder, r2, 2);
    // A folder carried by hand may hold only the manifest and the tarballs.
    const { rm } = await import('node:fs/promises');
    await rm(path.join(folder, `${r2.key}.chunks.json`));
    const events: SyncProgress[] = [];
    const result = await importVmCache({ from: folder, root, onProgress: (p) => events.push(p) });
    expect(result.downloaded).toEqual([r2.key]);
    expect(sha256(await readFile(path.join(root, 'cache', r2.key)))).toBe(sha256(r2.bytes));
    expect(events.at(-1)!.artifacts[0]!.delta).toBeUndefined();
  });
});

describe('repair from chunks', () => {
  /** v1 installed (its index kept), then three bytes flipped a megabyte apart. */
  async function damaged() {
    const { s, root, r1 } = await setUp();
    const file = path.join(root, 'cache', r1.key);
    const bytes = Buffer.from(await readFile(file));
    const flipped = [100_000, 2_100_000, 4_100_000];
    for (const at of flipped) bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
    await writeFile(file, bytes);
    const index = await indexOf(r1.bytes);
    // The chunk around each flipped byte is what must be fetched again.
    const expected = flipped.map((at) => {
      const c = index.chunks.find((x) => x.offset <= at && at < x.offset + x.length)!;
      return { offset: c.offset, length: c.length };
    });
    return { s, root, r1, file, expected, served: s.bytesServed(r1.key) };
  }

  it('verify names the bad byte ranges and keeps the tarball; the next sync fetches only those', async () => {
    const { s, root, r1, file, expected, served } = await damaged();
    const report = await verifyVmCache({ root });
    expect(report.ok).toBe(false);
    expect(report.entries).toEqual([{ key: r1.key, state: 'corrupt', badRanges: expected }]);
    // Not in the cache any more (nothing vouches for it), but kept beside it for the repair.
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.partial`)).toBe(true);
    expect(existsSync(getCachedManifestPath(root))).toBe(false);

    const events: SyncProgress[] = [];
    await sync(root, s.manifestUrl, events);
    expect(sha256(await readFile(file))).toBe(sha256(r1.bytes));
    const bad = expected.reduce((n, r) => n + r.length, 0);
    expect(s.bytesServed(r1.key) - served).toBe(bad);
    expect(events.at(-1)!.artifacts[0]!.delta).toMatchObject({
      fetchBytes: bad,
      reuseBytes: r1.bytes.length - bad,
    });
    expect((await verifyVmCache({ root })).ok).toBe(true);
  });

  it('a server that ignores Range: the kept tarball goes, and it is downloaded whole', async () => {
    const { s, root, r1, file, served } = await damaged();
    await verifyVmCache({ root });
    s.setFault(r1.key, { ignoreRange: true });
    const events: SyncProgress[] = [];
    await sync(root, s.manifestUrl, events);
    expect(sha256(await readFile(file))).toBe(sha256(r1.bytes));
    expect(events.at(-1)!.artifacts[0]!.delta?.fallback).toMatch(/does not answer byte ranges/);
    expect(s.bytesServed(r1.key) - served).toBeGreaterThanOrEqual(r1.bytes.length);
  });

  it('a partial already beside it (a staged new version) is not overwritten: the damaged file is removed', async () => {
    const { root, r1, file } = await damaged();
    await writeFile(`${file}.partial`, 'staged');
    const report = await verifyVmCache({ root });
    expect(report.entries).toEqual([{ key: r1.key, state: 'corrupt' }]);
    expect(await readFile(`${file}.partial`, 'utf8')).toBe('staged');
    expect(existsSync(file)).toBe(false);
  });

  it('damage scattered over thousands of chunks: at most 512 ranges kept, covering every bad byte', () => {
    const bad = Array.from({ length: 3000 }, (_, i) => ({ offset: i * 100_000, length: 20_000 + (i % 7) }));
    const kept = coarsen(bad, 512);
    expect(kept.length).toBeLessThanOrEqual(512);
    for (const r of bad)
      expect(kept.some((k) => k.offset <= r.offset && r.offset + r.length <= k.offset + k.length)).toBe(true);
    for (let i = 1; i < kept.length; i++)
      expect(kept[i]!.offset).toBeGreaterThan(kept[i - 1]!.offset + kept[i - 1]!.length);
  });

  it('without a kept index verify cannot place the damage: the tarball is removed, as before', async () => {
    const { root, r1, file } = await damaged();
    const { rm } = await import('node:fs/promises');
    await rm(path.join(root, 'state', 'chunk-indexes'), { recursive: true });
    const report = await verifyVmCache({ root });
    expect(report.entries).toEqual([{ key: r1.key, state: 'corrupt' }]);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.partial`)).toBe(false);
  });
});
