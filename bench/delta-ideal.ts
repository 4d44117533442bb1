// npm run bench:delta-ideal [-- --work DIR]: the ideal reuse of a delta update
// on real software (issue #15), before the engine fetches anything: each v2
// tarball of the data set (bench/delta-data.ts) is cut by the engine's
// chunker and its chunks looked up in v1's. What the engine actually fetches
// from a server is bench:delta's business.
import os from 'node:os';
import path from 'node:path';
import { serializeChunkIndex } from '../main/engine/index.js';
import { COMPRESSIONS, ideal, indexOf, makeImage, PAIRS } from './delta-data.js';

const flag = process.argv.indexOf('--work');
const work =
  flag > 0 ? path.resolve(process.argv[flag + 1]!) : path.join(os.tmpdir(), 'vm-cache-delta-ideal');
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;

for (const pair of PAIRS) {
  const v1 = await makeImage(work, `${pair.name}-1`, pair.v1);
  const v2 = await makeImage(work, `${pair.name}-2`, pair.v2);
  console.log(`\n${pair.name}: ${pair.what}\n`);
  console.log('| compression | v2 size | ideal reuse | left to fetch | index size |');
  console.log('|---|---:|---:|---:|---:|');
  for (const c of COMPRESSIONS) {
    const [i1, i2] = await Promise.all([indexOf(v1[c.ext]!), indexOf(v2[c.ext]!)]);
    const left = (await ideal(i1, i2, v1[c.ext]!)).idealFetchBytes;
    const pct = (n: number) => `${((100 * n) / i2.sizeBytes).toFixed(1)} %`;
    console.log(
      `| ${c.what} | ${mb(i2.sizeBytes)} | ${pct(i2.sizeBytes - left)} | ${mb(left)} (${pct(left)}) | ${((100 * serializeChunkIndex(i2).length) / i2.sizeBytes).toFixed(3)} % |`,
    );
  }
}
console.log(`\nwork folder: ${work} (packs are kept for the next run)`);
