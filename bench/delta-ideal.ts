// npm run bench:delta-ideal [-- --work DIR]: the ideal reuse of a delta update
// on real software (issue #15), before the engine fetches anything. Two
// "images" are made from real npm packages' installed trees (v2 updates three
// of seven packages), tarred reproducibly (--sort=name --mtime=@0
// --owner=0 --group=0) and compressed four ways; each v2 tarball is cut by the
// engine's chunker and its chunks looked up in v1's. Needs the npm registry,
// tar, gzip and zstd.
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildChunkIndex, serializeChunkIndex } from '../main/engine/index.js';

const IMAGES: Record<'1' | '2', string[]> = {
  '1': [
    'lodash@4.17.20',
    'zod@3.22.4',
    'got@14.2.0',
    'lit@3.1.0',
    'typescript@5.4.5',
    'esbuild-wasm@0.20.2',
    'prettier@3.2.5',
  ],
  '2': [
    'lodash@4.17.21',
    'zod@3.23.8',
    'got@14.2.0',
    'lit@3.1.0',
    'typescript@5.4.5',
    'esbuild-wasm@0.20.2',
    'prettier@3.3.3',
  ],
};
const COMPRESSIONS: Array<{ ext: string; what: string; make(tar: string, out: string): void }> = [
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

function sh(command: string, cwd?: string): string {
  return execFileSync('sh', ['-c', command], { cwd, encoding: 'utf8' });
}

const flag = process.argv.indexOf('--work');
const work =
  flag > 0 ? path.resolve(process.argv[flag + 1]!) : path.join(os.tmpdir(), 'vm-cache-delta-ideal');
await mkdir(path.join(work, 'packs'), { recursive: true });

async function image(version: '1' | '2'): Promise<string> {
  const tree = path.join(work, `tree-${version}`);
  await rm(tree, { recursive: true, force: true });
  for (const spec of IMAGES[version]) {
    const file = path.join(work, 'packs', `${spec.replace(/[@/]/g, '-')}.tgz`);
    if (!existsSync(file)) {
      const packed = sh(`npm pack '${spec}' --silent`, path.join(work, 'packs')).trim().split('\n').at(-1)!;
      const from = path.join(work, 'packs', packed);
      if (from !== file) sh(`mv '${from}' '${file}'`);
    }
    const name = spec.slice(0, spec.lastIndexOf('@'));
    await mkdir(path.join(tree, 'node_modules', name), { recursive: true });
    sh(`tar -xzf '${file}' -C '${path.join(tree, 'node_modules', name)}' --strip-components=1`);
  }
  const tar = path.join(work, `image-${version}.tar`);
  sh(`tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf '${tar}' -C '${tree}' node_modules`);
  for (const c of COMPRESSIONS)
    if (c.ext !== 'tar') c.make(tar, path.join(work, `image-${version}.${c.ext}`));
  return tar;
}

await image('1');
await image('2');
const index = (file: string) => buildChunkIndex(createReadStream(file, { highWaterMark: 1 << 20 }));
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
console.log('| compression | v2 size | ideal reuse | left to fetch | index size |');
console.log('|---|---:|---:|---:|---:|');
for (const c of COMPRESSIONS) {
  const [v1, v2] = await Promise.all([
    index(path.join(work, `image-1.${c.ext}`)),
    index(path.join(work, `image-2.${c.ext}`)),
  ]);
  const known = new Set(v1.chunks.map((k) => k.sha256));
  const reused = v2.chunks.filter((k) => known.has(k.sha256)).reduce((n, k) => n + k.length, 0);
  const left = v2.sizeBytes - reused;
  const pct = (n: number) => `${((100 * n) / v2.sizeBytes).toFixed(1)} %`;
  console.log(
    `| ${c.what} | ${mb(v2.sizeBytes)} | ${pct(reused)} | ${mb(left)} (${pct(left)}) | ${((100 * serializeChunkIndex(v2).length) / v2.sizeBytes).toFixed(3)} % |`,
  );
}
console.log(
  `\nwork folder: ${work} (${(await readdir(work)).length} entries; packs are kept for the next run)`,
);
