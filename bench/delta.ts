// The delta suite (issue #15), `npm run bench:delta` (= `npm run bench -- --delta`):
// what the engine fetches for a version update from a real HTTP server, next
// to the ideal. For each image pair of bench/delta-data.ts and each
// compression, both versions are published with `vm-cache manifest build`
// (the CLI itself: chunk indexes and all, as a publisher would), v1 is synced
// into a fresh root, the manifest is switched to v2, and the measured sync
// updates it; the server counts the bytes. A copy of the root holding v1 is
// then updated with `delta: false`: the whole download it replaces.
import { spawnSync } from 'node:child_process';
import { copyFile, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundle } from './bundle.js';
import {
  COMPRESSIONS,
  type Compression,
  type ImagePair,
  ideal,
  indexOf,
  makeImage,
  PAIRS,
} from './delta-data.js';
import { type Counted, type DirServer, haveNginx, nginxServer, ourServer } from './delta-servers.js';
import type { EngineJob, EngineResult } from './protocol.js';
import { runEngine } from './runners.js';
import { summarize } from './stats.js';
import { dropCaches } from './system.js';

const REPO = path.resolve(import.meta.dirname, '..');

interface Published {
  dir: string;
  /** Manifests of v1 and v2, kept outside the served folder until they are published. */
  manifests: [string, string];
  key: string;
  v2File: string;
}

/** v1 and v2 side by side under vm/images, each with its manifest (v2's manifestVersion is higher). */
async function publish(work: string, pair: ImagePair, c: Compression, files: [string, string]) {
  const dir = path.join(work, 'pub', `${pair.name}-${c.ext}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, 'vm', 'images'), { recursive: true });
  const manifests: string[] = [];
  for (const v of [1, 2]) {
    // --list, because the CLI's file-name scan expects .tar.gz and one version per agent.
    const key = `vm/images/image-${v}.${c.ext}`;
    await copyFile(files[v - 1]!, path.join(dir, key));
    const list = `${dir}.list-${v}`;
    await writeFile(list, `${key} image ${v} x64\n`);
    manifests.push(`${dir}.manifest-${v}.json`);
    const r = spawnSync(
      process.execPath,
      [
        path.join(REPO, 'cli', 'vm-cache.mjs'),
        ...['manifest', 'build', dir, '--list', list, '--manifest-version', String(v)],
        ...['--out', manifests.at(-1)!],
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`manifest build failed: ${r.stderr}`);
  }
  return {
    dir,
    manifests: manifests as [string, string],
    key: `vm/images/image-2.${c.ext}`,
    v2File: files[1],
  } satisfies Published;
}

interface Row {
  what: string;
  sizeBytes: number;
  idealBytes: number;
  planBytes: number;
  /** From here on, one value per run. */
  fetched: number[];
  requests: number[];
  other: number[];
  ms: number[];
  cpuMs: number[];
  wholeMs: number[];
  wholeCpuMs: number[];
  wholeFetched: number[];
  /** Notes on what the engine said (its plan when it differs from planDelta's, a fallback). */
  notes: Set<string>;
}

function must(r: EngineResult, what: string): EngineResult {
  if (!r.ok) throw new Error(`${what} failed: ${r.error}`);
  return r;
}

function since(after: Map<string, Counted>, before: Map<string, Counted>, key?: string): Counted {
  const out = { requests: 0, bytes: 0 };
  for (const [k, c] of after) {
    if (key !== undefined && k !== key) continue;
    out.requests += c.requests - (before.get(k)?.requests ?? 0);
    out.bytes += c.bytes - (before.get(k)?.bytes ?? 0);
  }
  return out;
}

async function measure(
  script: string,
  server: DirServer,
  pub: Published,
  row: Row,
  work: string,
  runs: number,
  log: (line: string) => void,
) {
  const job = (root: string, delta?: boolean): EngineJob => ({
    mode: 'sync',
    transport: 'got',
    manifestUrl: `${server.url}/vm/manifest.json`,
    // Used by the "usual" mode only.
    key: pub.key,
    url: '',
    sha256: '',
    root,
    ...(delta === undefined ? {} : { delta }),
  });
  const root = path.join(work, 'roots', 'delta');
  const whole = path.join(work, 'roots', 'whole');
  const served = path.join(pub.dir, 'vm', 'manifest.json');
  const v2 = await readFile(pub.v2File);
  for (let run = 0; run < runs; run++) {
    await rm(root, { recursive: true, force: true });
    await rm(whole, { recursive: true, force: true });
    await copyFile(pub.manifests[0], served);
    must(await runEngine(script, job(root)), 'v1 sync');
    await cp(root, whole, { recursive: true });
    await copyFile(pub.manifests[1], served);

    dropCaches();
    const t0 = await server.traffic();
    const d = must(await runEngine(script, job(root)), 'delta sync');
    const t1 = await server.traffic();
    dropCaches();
    const w = must(await runEngine(script, job(whole, false)), 'whole download');
    const t2 = await server.traffic();

    // The engine checked the sha256; this checks the bench measured an update that happened.
    const got = await readFile(path.join(root, 'cache', pub.key));
    if (!d.downloaded?.includes(pub.key) || !got.equals(v2))
      throw new Error('the delta sync did not give v2');
    const tarball = since(t1, t0, pub.key);
    row.fetched.push(tarball.bytes);
    row.requests.push(tarball.requests);
    row.other.push(since(t1, t0).bytes - tarball.bytes);
    row.ms.push(d.totalMs);
    row.cpuMs.push(d.userMs + d.systemMs);
    row.wholeMs.push(w.totalMs);
    row.wholeCpuMs.push(w.userMs + w.systemMs);
    row.wholeFetched.push(since(t2, t1, pub.key).bytes);
    if (d.delta?.fallback) row.notes.add(`fell back: ${d.delta.fallback}`);
    else if (d.delta && d.delta.fetchBytes !== row.planBytes)
      row.notes.add(`engine planned ${d.delta.fetchBytes} B, planDelta ${row.planBytes} B`);
    else if (!d.delta) row.notes.add('no delta progress reported');
    log(
      `  ${server.name} ${row.what} run ${run + 1}/${runs}: ${tarball.bytes} B in ${tarball.requests} requests, ${d.totalMs.toFixed(0)} ms; whole ${w.totalMs.toFixed(0)} ms`,
    );
  }
}

const MB = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
const time = (m: number) => (m >= 1000 ? `${(m / 1000).toFixed(2)} s` : `${m.toFixed(0)} ms`);
const ms = (values: number[]) => time(summarize(values).median);
/** Median (min–max): other work on a shared machine moves single runs a lot. */
const timeSpread = (values: number[]) => {
  const s = summarize(values);
  return s.n > 1 ? `${time(s.median)} (${time(s.min)}–${time(s.max)})` : time(s.median);
};
/** One value when every run agrees, else min–max: bytes should not vary. */
const spread = (values: number[], f: (n: number) => string) => {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? f(lo) : `${f(lo)}–${f(hi)}`;
};

function table(rows: Row[]): string[] {
  const lines = [
    '| compression | v2 size | ideal fetch | planned | engine fetched (server count) | over ideal | tarball requests | manifest + index | delta sync | CPU | whole download | CPU |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const pct = (n: number) => `${((100 * n) / r.sizeBytes).toFixed(1)} %`;
    lines.push(
      `| ${r.what} | ${MB(r.sizeBytes)} | ${pct(r.idealBytes)} | ${pct(r.planBytes)} | ${spread(r.fetched, MB)} (${spread(r.fetched, pct)}) | ${spread(
        r.fetched.map((n) => n - r.idealBytes),
        (n) => `${n} B`,
      )} | ${spread(r.requests, String)} | ${spread(r.other, (n) => `${(n / 1e3).toFixed(1)} kB`)} | ${timeSpread(r.ms)} | ${ms(r.cpuMs)} | ${timeSpread(r.wholeMs)} | ${ms(r.wholeCpuMs)} |`,
    );
  }
  for (const r of rows) for (const note of r.notes) lines.push('', `${r.what}: ${note}`);
  return lines;
}

/** Runs the suite and returns its markdown (tables per pair and server). */
export async function deltaSuite(work: string, runs: number, log: (line: string) => void): Promise<string> {
  const { engineRun } = await bundle(path.join(work, 'bin'));
  const out: string[] = [];
  for (const pair of PAIRS) {
    log(`data set ${pair.name}: ${pair.what}`);
    const v1 = await makeImage(work, `${pair.name}-1`, pair.v1);
    const v2 = await makeImage(work, `${pair.name}-2`, pair.v2);
    const published: Array<
      { pub: Published } & Pick<Row, 'what' | 'sizeBytes' | 'idealBytes' | 'planBytes'>
    > = [];
    for (const c of COMPRESSIONS) {
      const pub = await publish(work, pair, c, [v1[c.ext]!, v2[c.ext]!]);
      const [i1, i2] = await Promise.all([indexOf(v1[c.ext]!), indexOf(v2[c.ext]!)]);
      const best = await ideal(i1, i2, v1[c.ext]!);
      const { idealFetchBytes: idealBytes, planFetchBytes: planBytes } = best;
      published.push({ pub, what: c.what, sizeBytes: i2.sizeBytes, idealBytes, planBytes });
    }
    const servers = [(dir: string) => ourServer(dir)];
    if (haveNginx()) servers.push((dir) => nginxServer(dir, work));
    else log('nginx not found (apt-get install nginx-light): only our artifact server is measured');
    for (const start of servers) {
      const rows: Row[] = [];
      let name = '';
      for (const { pub, ...base } of published) {
        const server = await start(pub.dir);
        name = server.name;
        const row: Row = {
          ...base,
          fetched: [],
          requests: [],
          other: [],
          ms: [],
          cpuMs: [],
          wholeMs: [],
          wholeCpuMs: [],
          wholeFetched: [],
          notes: new Set(),
        };
        try {
          await measure(engineRun, server, pub, row, work, runs, log);
        } finally {
          await server.stop();
        }
        if (row.wholeFetched.some((n) => n !== row.sizeBytes))
          row.notes.add('the whole download did not fetch exactly the tarball');
        rows.push(row);
      }
      out.push(`### ${pair.name}: ${pair.what}; ${name}`, '', ...table(rows), '');
    }
  }
  return out.join('\n');
}
