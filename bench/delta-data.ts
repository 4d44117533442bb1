// The data set of the delta benchmarks (issue #15): "images" made from real
// npm packages' installed trees, tarred reproducibly (--sort=name --mtime=@0
// --owner=0 --group=0) and compressed four ways. Real software, not random
// bytes: how much of a release survives an update depends on how real files
// change. Needs the npm registry (packs are kept in the work folder), tar,
// gzip and zstd.
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { buildChunkIndex, type ChunkIndex, planDelta } from '../main/engine/index.js';

/** The first image every pair starts from. */
const BASE = [
  'lodash@4.17.20',
  'zod@3.22.4',
  'got@14.2.0',
  'lit@3.1.0',
  'typescript@5.4.5',
  'esbuild-wasm@0.20.2',
  'prettier@3.2.5',
];

export interface ImagePair {
  name: string;
  what: string;
  v1: string[];
  v2: string[];
}

/** `list` with each package of `specs` at the version `specs` names (added when absent). */
function bump(list: string[], ...specs: string[]): string[] {
  const name = (spec: string) => spec.slice(0, spec.lastIndexOf('@'));
  const out = list.map((s) => specs.find((n) => name(n) === name(s)) ?? s);
  return [...out, ...specs.filter((n) => !list.some((s) => name(s) === name(n)))];
}

export const PAIRS: ImagePair[] = [
  {
    // The pair of bench:delta-ideal since it landed: about a sixth of the
    // tar's bytes are new (prettier's bundles are rewritten by a minor release).
    name: 'three',
    what: 'lodash, zod and prettier updated (3 of 7 packages)',
    v1: BASE,
    v2: bump(BASE, 'lodash@4.17.21', 'zod@3.23.8', 'prettier@3.3.3'),
  },
  {
    // The issue's goal is worded for "an update where about a tenth of the
    // content changed": four small packages move on and one is added, which
    // makes 9.0 % of the tar's bytes new (the uncompressed tar's ideal).
    // Chosen for that share, before the engine was run on it.
    name: 'tenth',
    what: 'lodash, zod, got and lit updated, axios added',
    v1: BASE,
    v2: bump(BASE, 'lodash@4.17.21', 'zod@3.23.8', 'got@14.4.0', 'lit@3.2.0', 'axios@1.7.2'),
  },
];

export interface Compression {
  ext: string;
  what: string;
  make(tar: string, out: string): void;
}

export const COMPRESSIONS: Compression[] = [
  { ext: 'tar', what: 'uncompressed tar', make: () => {} },
  { ext: 'gz', what: 'gzip -n', make: (tar, out) => sh(`gzip -n -c '${tar}' > '${out}'`) },
  {
    ext: 'rgz',
    what: 'gzip -n --rsyncable',
    make: (tar, out) => sh(`gzip -n --rsyncable -c '${tar}' > '${out}'`),
  },
  {
    ext: 'zst',
    what: 'zstd --rsyncable',
    make: (tar, out) => sh(`zstd -q -f --rsyncable '${tar}' -o '${out}'`),
  },
];

export function sh(command: string, cwd?: string): string {
  return execFileSync('sh', ['-c', command], { cwd, encoding: 'utf8' });
}

/**
 * Builds `<work>/<name>.tar` and its compressed forms from `specs`; returns
 * the file of each compression by ext. Packs are fetched once and kept.
 */
export async function makeImage(
  work: string,
  name: string,
  specs: string[],
): Promise<Record<string, string>> {
  const packs = path.join(work, 'packs');
  await mkdir(packs, { recursive: true });
  const tree = path.join(work, `tree-${name}`);
  await rm(tree, { recursive: true, force: true });
  for (const spec of specs) {
    const file = path.join(packs, `${spec.replace(/[@/]/g, '-')}.tgz`);
    if (!existsSync(file)) {
      const packed = sh(`npm pack '${spec}' --silent`, packs).trim().split('\n').at(-1)!;
      const from = path.join(packs, packed);
      if (from !== file) sh(`mv '${from}' '${file}'`);
    }
    const pkg = spec.slice(0, spec.lastIndexOf('@'));
    await mkdir(path.join(tree, 'node_modules', pkg), { recursive: true });
    sh(`tar -xzf '${file}' -C '${path.join(tree, 'node_modules', pkg)}' --strip-components=1`);
  }
  const tar = path.join(work, `${name}.tar`);
  sh(`tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf '${tar}' -C '${tree}' node_modules`);
  await rm(tree, { recursive: true, force: true });
  const files: Record<string, string> = {};
  for (const c of COMPRESSIONS) {
    files[c.ext] = c.ext === 'tar' ? tar : path.join(work, `${name}.${c.ext}`);
    c.make(tar, files[c.ext]!);
  }
  return files;
}

/** A file cut by the engine's chunker with its default parameters, as `manifest build` cuts it. */
export function indexOf(file: string): Promise<ChunkIndex> {
  return buildChunkIndex(createReadStream(file, { highWaterMark: 1 << 20 }));
}

export interface Ideal {
  /** Bytes of v2 whose chunk is not in v1: the least any chunk-based client must fetch. */
  idealFetchBytes: number;
  /** What the engine's own planning asks for (planDelta: small gaps between ranges are fetched too). */
  planFetchBytes: number;
  planRanges: number;
}

/** What a client holding only v1 would have to fetch for v2. */
export async function ideal(v1: ChunkIndex, v2: ChunkIndex, v1File: string): Promise<Ideal> {
  const local = new Map(
    v1.chunks.map((c) => [`${c.sha256}:${c.length}`, { file: v1File, offset: c.offset, length: c.length }]),
  );
  const reused = v2.chunks
    .filter((c) => local.has(`${c.sha256}:${c.length}`))
    .reduce((n, c) => n + c.length, 0);
  const plan = planDelta(v2, local);
  return {
    idealFetchBytes: v2.sizeBytes - reused,
    planFetchBytes: plan.fetchBytes,
    planRanges: plan.fetch.length,
  };
}
