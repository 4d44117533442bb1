// manifest build --previous DIR|URL (issue #15, item 5): the reuse a client
// holding the previous release would get, as the engine would plan it, and the
// warning when a tarball's compression defeats it. Real files in temp folders:
// a previous release and a new one where about a tenth of the content changed,
// uncompressed, `gzip -n --rsyncable` and plain `gzip -n`.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compressionOf } from '../../cli/commands/reuse-report.js';
import { formatBytes } from '../../contract/index.js';
import {
  addLocalChunks,
  buildChunkIndex,
  cutFile,
  type LocalChunk,
  MIN_REUSE_SHARE,
  planDelta,
} from '../../main/engine/index.js';
import { seededBytes, server, tempRoot } from '../helpers.js';
import { type CliResult, expectCode, jsonLines, runCli, snapshot } from './helpers.js';

/** 256 made-up words: the content compresses like text, so gzip's behaviour shows. */
const WORDS = Array.from({ length: 256 }, (_, i) =>
  seededBytes(8, `word-${i}`)
    .toString('hex')
    .slice(0, 3 + (i % 7)),
);

/** One "file" of the image: ~80 kB of text from its seed. */
function fileText(seed: string, words: number): string {
  const picks = seededBytes(words, seed);
  const lines: string[] = [];
  for (let i = 0; i < words; i += 12) {
    lines.push(Array.from(picks.subarray(i, i + 12), (b) => WORDS[b]).join(' '));
  }
  return `=== ${seed} ===\n${lines.join('\n')}\n`;
}

/**
 * An image of 100 files (8.4 MB). Version 2 rewrites a tenth of them, a
 * little longer each, in two runs of five (two packages updated).
 */
function image(version: 1 | 2): Buffer {
  const made = images.get(version);
  if (made) return made;
  const files: string[] = [];
  for (let i = 0; i < 100; i++) {
    const changed = version === 2 && ((i >= 13 && i < 18) || (i >= 63 && i < 68));
    files.push(fileText(changed ? `file-${i}-v2` : `file-${i}`, changed ? 12_200 : 12_000));
  }
  images.set(version, Buffer.from(files.join('')));
  return images.get(version)!;
}
const images = new Map<1 | 2, Buffer>();

const gzip = (bytes: Buffer, ...flags: string[]) =>
  execFileSync('gzip', ['-n', ...flags, '-c'], { input: bytes, maxBuffer: 1 << 28 });

const KINDS = {
  tar: (b: Buffer) => b,
  rgz: (b: Buffer) => gzip(b, '--rsyncable'),
  gz: (b: Buffer) => gzip(b),
} as const;
type Kind = keyof typeof KINDS;
const keyOf = (kind: Kind, version: 1 | 2, arch = 'x64') => `vm/images/${kind}-${version}.0.0-${arch}.tar.gz`;

/** A release folder with one x64 tarball per kind; the previous one also holds an arm64 decoy. */
async function release(dir: string, version: 1 | 2): Promise<void> {
  await mkdir(path.join(dir, 'vm', 'images'), { recursive: true });
  for (const [kind, compress] of Object.entries(KINDS) as Array<[Kind, (b: Buffer) => Buffer]>) {
    await writeFile(path.join(dir, keyOf(kind, version)), compress(image(version)));
  }
  // The new release's own bytes, but for another arch: a client never reuses across arches.
  if (version === 1) await writeFile(path.join(dir, keyOf('tar', 1, 'arm64')), image(2));
}

interface Expected {
  reusedBytes: number;
  fetchBytes: number;
  sizeBytes: number;
  line: string;
}

/** What the engine would plan for each new tarball, given every previous x64 tarball on disk. */
async function expected(prev: string, next: string): Promise<Record<Kind, Expected>> {
  const out = {} as Record<Kind, Expected>;
  for (const kind of Object.keys(KINDS) as Kind[]) {
    const key = keyOf(kind, 2);
    const index = await buildChunkIndex([await readFile(path.join(next, key))]);
    const local = new Map<string, LocalChunk>();
    for (const k of Object.keys(KINDS) as Kind[]) {
      const file = path.join(prev, keyOf(k, 1));
      addLocalChunks(local, file, await cutFile(file, index.chunker));
    }
    const { reusedBytes, fetchBytes } = planDelta(index, local);
    const pct = ((100 * reusedBytes) / index.sizeBytes).toFixed(1);
    const size = formatBytes(index.sizeBytes);
    out[kind] = {
      reusedBytes,
      fetchBytes,
      sizeBytes: index.sizeBytes,
      line:
        reusedBytes >= index.sizeBytes * MIN_REUSE_SHARE
          ? `${key}: ${pct} % reusable from the previous release (fetches ${formatBytes(fetchBytes)} of ${size})`
          : `${key}: ${pct} % reusable from the previous release, under the 20 % at which clients download it whole (${size})`,
    };
  }
  return out;
}

const warningFor = (r: CliResult, key: string) =>
  r.stderr.split('\n').filter((l) => l.startsWith('vm-cache: warning:') && l.includes(key));

async function build(next: string, ...args: string[]): Promise<CliResult> {
  return runCli(['manifest', 'build', next, '--out', path.join(next, 'vm', 'manifest.json'), ...args]);
}

/** The reuse lines of a text-mode build, by tarball key. */
function reuseLines(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^ {2}(vm\/images\/\S+): /.exec(line);
    if (m) out[m[1]!] = line.trim();
  }
  return out;
}

describe('manifest build --previous', () => {
  it('reports the reuse the engine would plan, from the folder and from the URL, and warns about plain gzip', async () => {
    const work = await tempRoot();
    const prev = path.join(work, 'v1');
    const next = path.join(work, 'v2');
    await release(prev, 1);
    await release(next, 2);
    expectCode(await build(prev), 0);
    const want = await expected(prev, next);
    // The data makes the point: rsyncable gzip keeps most of the uncompressed reuse, plain gzip loses it.
    expect(want.tar.reusedBytes / want.tar.sizeBytes).toBeGreaterThan(0.8);
    expect(want.tar.reusedBytes).toBeLessThan(want.tar.sizeBytes); // not the arm64 decoy's 100 %
    expect(want.rgz.reusedBytes / want.rgz.sizeBytes).toBeGreaterThan(0.7);
    expect(want.gz.reusedBytes / want.gz.sizeBytes).toBeLessThan(MIN_REUSE_SHARE);

    // From the folder (its published .chunks.json files).
    const fromDir = await build(next, '--previous', prev);
    expectCode(fromDir, 0);
    expect(fromDir.stdout).toContain(`Delta updates from the previous release (${prev}):`);
    console.log(`v2 over v1, a tenth changed:\n${Object.values(reuseLines(fromDir.stdout)).join('\n')}`);
    expect(reuseLines(fromDir.stdout)).toEqual(
      Object.fromEntries(Object.values(want).map((w) => [w.line.split(': ')[0], w.line])),
    );
    expect(warningFor(fromDir, keyOf('gz', 2))).toEqual([
      expect.stringMatching(/only \d+\.\d % reusable, and it is gzip-compressed.*gzip -n --rsyncable/),
    ]);
    expect(warningFor(fromDir, keyOf('rgz', 2))).toEqual([]);
    expect(warningFor(fromDir, keyOf('tar', 2))).toEqual([]);

    // --json: the same figures as fields of the result line; the warning stays on stderr.
    const json = await build(next, '--previous', prev, '--json');
    expectCode(json, 0);
    const [result, ...rest] = jsonLines(json.stdout);
    expect(rest).toEqual([]);
    expect(result).toMatchObject({ type: 'result', tarballs: 3, previous: prev });
    const reuse = result!.reuse as Array<Record<string, unknown>>;
    expect(reuse).toHaveLength(3);
    for (const kind of Object.keys(KINDS) as Kind[]) {
      const w = want[kind];
      expect(reuse.find((r) => r.key === keyOf(kind, 2))).toEqual({
        key: keyOf(kind, 2),
        arch: 'x64',
        sizeBytes: w.sizeBytes,
        compression: kind === 'tar' ? 'none' : 'gzip',
        comparedWith: [keyOf('gz', 1), keyOf('rgz', 1), keyOf('tar', 1)],
        notCompared: [],
        reusedBytes: w.reusedBytes,
        fetchBytes: w.fetchBytes,
        delta: kind !== 'gz',
      });
    }
    expect(result!.warnings).toEqual([expect.stringContaining(keyOf('gz', 2))]);
    expect(warningFor(json, keyOf('gz', 2))).toHaveLength(1);

    // From the URL: the manifest and the chunk indexes are fetched, no tarball.
    const cdn = await server({ dir: prev });
    const fromUrl = await build(next, '--previous', cdn.manifestUrl);
    expectCode(fromUrl, 0);
    expect(reuseLines(fromUrl.stdout)).toEqual(reuseLines(fromDir.stdout));
    expect(warningFor(fromUrl, keyOf('gz', 2))).toHaveLength(1);
    const asked = cdn.requests.map((r) => r.path).sort();
    expect(asked).toEqual([
      `${keyOf('gz', 1)}.chunks.json`,
      `${keyOf('rgz', 1)}.chunks.json`,
      `${keyOf('tar', 1)}.chunks.json`,
      'vm/manifest.json',
    ]);

    // A previous release published without indexes: the folder's tarballs are cut instead (same
    // figures); from a URL they cannot be measured, and the build says so.
    expectCode(await build(prev, '--no-chunk-index'), 0);
    for (const k of Object.keys(KINDS) as Kind[]) await rm(path.join(prev, `${keyOf(k, 1)}.chunks.json`));
    await rm(path.join(prev, `${keyOf('tar', 1, 'arm64')}.chunks.json`));
    const cut = await build(next, '--previous', prev);
    expectCode(cut, 0);
    expect(reuseLines(cut.stdout)).toEqual(reuseLines(fromDir.stdout));
    const blind = await build(next, '--previous', cdn.manifestUrl);
    expectCode(blind, 0);
    expect(Object.values(reuseLines(blind.stdout))).toEqual(
      ['gz', 'rgz', 'tar'].map(
        (k) =>
          `${keyOf(k as Kind, 2)}: reuse not measured: no previous x64 tarball could be compared (see above)`,
      ),
    );
    expect(blind.stderr).toContain(
      `vm-cache: the previous release's ${keyOf('tar', 1)} is not counted: the previous manifest names no chunk index for it`,
    );
    // Not measured, so no guess about plain gzip.
    expect(warningFor(blind, 'vm/images/')).toEqual([]);
    expect(
      cdn.requests.filter((r) => !r.path.endsWith('.chunks.json') && r.path !== 'vm/manifest.json'),
    ).toEqual([]);
  }, 60_000);

  it('without --previous warns only for xz and bzip2; refusals before anything is written', async () => {
    const dir = await tempRoot();
    await mkdir(path.join(dir, 'vm', 'images'), { recursive: true });
    const body = seededBytes(50_000, 'body');
    // The formats' own magic bytes: what the build looks at.
    const files: Record<string, Buffer> = {
      'vm/images/plain-1.0.0-x64.tar.gz': gzip(image(1).subarray(0, 100_000)),
      'vm/images/raw-1.0.0-x64.tar.gz': body,
      'vm/images/xzed-1.0.0-x64.tar.gz': Buffer.concat([Buffer.from('fd377a585a00', 'hex'), body]),
      'vm/images/bzed-1.0.0-x64.tar.gz': Buffer.concat([Buffer.from('BZh9'), body]),
    };
    for (const [key, bytes] of Object.entries(files)) await writeFile(path.join(dir, key), bytes);
    const r = await build(dir);
    expectCode(r, 0);
    expect(warningFor(r, 'xzed')).toEqual([
      expect.stringContaining('is xz-compressed, which never resynchronises after a change'),
    ]);
    expect(warningFor(r, 'bzed')).toEqual([expect.stringContaining('is bzip2-compressed')]);
    // gzip with and without --rsyncable look the same: no guess without a measurement.
    expect(warningFor(r, 'plain')).toEqual([]);
    expect(warningFor(r, 'raw')).toEqual([]);
    expect(r.stdout).not.toContain('Delta updates');

    const manifest = path.join(dir, 'vm', 'manifest.json');
    await rm(manifest);
    const before = await snapshot(dir);
    const missing = await build(dir, '--previous', path.join(dir, 'nowhere'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--previous .*nowhere: cannot read .*vm\/manifest\.json/);
    const cdn = await server({ dir: await tempRoot() });
    const gone = await build(dir, '--previous', cdn.manifestUrl, '--json');
    expect(gone.code).toBe(3);
    expect(jsonLines(gone.stdout)).toEqual([
      expect.objectContaining({ type: 'error', code: 'ERR_MANIFEST_FETCH' }),
    ]);
    expect(gone.stderr).toMatch(/cannot fetch it \(HTTP 404\)/);
    const both = await build(dir, '--previous', dir, '--no-chunk-index');
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/drop --no-chunk-index/);
    expect(await snapshot(dir)).toEqual(before);
  }, 60_000);

  it('tells compressions apart by their magic bytes', () => {
    const of = (hex: string) => compressionOf(Buffer.from(hex, 'hex'));
    expect(of('1f8b0800')).toBe('gzip');
    expect(of('28b52ffd0058')).toBe('zstd');
    expect(of('fd377a585a00')).toBe('xz');
    expect(of('fd377a585a')).toBe('none'); // cut short
    expect(of(Buffer.from('BZh91AY').toString('hex'))).toBe('bzip2');
    expect(of(Buffer.from('BZh0').toString('hex'))).toBe('none');
    expect(of(Buffer.from('ustar').toString('hex'))).toBe('none');
    expect(of('')).toBe('none');
  });
});
