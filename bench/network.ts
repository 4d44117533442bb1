// The network suite (issue #16), `npm run bench:network` (= `npm run bench -- --network`):
// the engine against nginx, a server nobody here wrote, started on 127.0.0.1
// twice: once capping each connection (`limit_rate 32m`, as many servers and
// CDNs do) and once without a cap. For each, one `curl` connection, the
// engine held to one connection (`connections: 1`) and the engine as it ships
// (adaptive parallel ranges) download the same tarball of pseudo-random bytes,
// each from a fresh root; then the engine's own cap (`limitRate`) is held against
// the uncapped nginx: the average rate over the download against the cap.
//
// Every run starts with the page cache dropped and the served tarball read
// back into it (untimed): the server sends from memory, as a CDN's edge does,
// and no run profits from the bytes the one before it wrote.
import { spawn, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { formatSize } from './args.js';
import { type DirServer, haveNginx, nginxServer } from './delta-servers.js';
import { BENCH_ARTIFACT, type EngineJob, type EngineResult } from './protocol.js';
import { runEngine } from './runners.js';
import { type Summary, summarize } from './stats.js';
import { dropCaches } from './system.js';

const REPO = path.resolve(import.meta.dirname, '..');
const MiB = 1 << 20;
/** nginx's per-connection cap: `32m` is 32 MiB/s (nginx's sizes are binary). */
const NGINX_CAP = '32m';
const NGINX_CAP_BYTES = 32 * MiB;
/** The engine's caps to check, and how long each download should last at its cap. */
const ENGINE_CAPS = [24 * MiB, 8 * MiB];
const CAP_SECONDS = 4;
/** The goals of issue #16. */
const GOAL_PARALLEL = 2.5;
const GOAL_CAP_ERROR = 10;
const GOAL_NO_LOSS = 5;

export interface NetworkOptions {
  /** engine-run.mjs, bundled by bench/bundle.ts. */
  script: string;
  work: string;
  sizeBytes: number;
  runs: number;
  log: (line: string) => void;
}

/** One published folder: DIR/vm/manifest.json and DIR/vm/images/bench-1-x64.tar.gz. */
interface Published {
  name: string;
  dir: string;
  file: string;
  /** The tarball's path under the served root (the nginx root holds every published folder). */
  urlPath: string;
  sizeBytes: number;
}

/**
 * A tarball of pseudo-random bytes (incompressible, as a gzip is) and its
 * manifest, built by the CLI as a publisher would. x64, because engine-run
 * pins rawHostArch to x64 whatever the host.
 */
async function publish(pub: string, name: string, sizeBytes: number): Promise<Published> {
  const dir = path.join(pub, name);
  const base = `${BENCH_ARTIFACT.agent}-${BENCH_ARTIFACT.version}-${BENCH_ARTIFACT.arch}.tar.gz`;
  const file = path.join(dir, 'vm', 'images', base);
  await mkdir(path.dirname(file), { recursive: true });
  const fh = await open(file, 'w');
  try {
    const buf = Buffer.alloc(4 * MiB);
    for (let left = sizeBytes; left > 0; left -= buf.length) {
      const n = Math.min(left, buf.length);
      randomFillSync(buf, 0, n);
      await fh.write(buf, 0, n);
    }
  } finally {
    await fh.close();
  }
  const r = spawnSync(
    process.execPath,
    [
      path.join(REPO, 'cli', 'vm-cache.mjs'),
      ...['manifest', 'build', dir, '--out', path.join(dir, 'vm', 'manifest.json'), '--no-chunk-index'],
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`manifest build failed: ${r.stderr}`);
  return { name, dir, file, urlPath: `${name}/vm/images/${base}`, sizeBytes };
}

/** Drops the page cache, then reads the served tarball back into it (untimed). */
async function prepare(p: Published): Promise<void> {
  dropCaches();
  for await (const _ of createReadStream(p.file, { highWaterMark: 4 * MiB })) {
    // reading is the point
  }
}

interface CurlRun {
  ms: number;
  bytes: number;
}

/** One curl connection to a file, timed from spawn to exit (its start-up included, as a user pays it). */
function curl(url: string, out: string, extra: string[] = []): Promise<CurlRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('curl', ['-s', '-o', out, '-w', '%{http_code} %{size_download}', ...extra, url], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - t0;
      const [status, bytes] = text.trim().split(' ');
      if (code !== 0 || status !== '200') reject(new Error(`curl ${url}: exit ${code}, HTTP ${status}`));
      else resolve({ ms, bytes: Number(bytes) });
    });
  });
}

interface EngineRun {
  /** The call to resolve: manifest, download with the sha256 in the same pass, fsync, rename. */
  ms: number;
  /** From the tarball's request to its last byte in and hashed. */
  downloadMs: number;
}

async function engine(
  script: string,
  server: DirServer,
  p: Published,
  root: string,
  extra: { limitRate?: number; connections?: number } = {},
): Promise<EngineRun> {
  await rm(root, { recursive: true, force: true });
  const job: EngineJob = {
    mode: 'sync',
    transport: 'got',
    manifestUrl: `${server.url}/${p.name}/vm/manifest.json`,
    key: 'vm/images/unused',
    url: '',
    sha256: '',
    root,
    ...extra,
  };
  const r: EngineResult = await runEngine(script, job);
  if (!r.ok) throw new Error(`engine sync from ${server.name} failed: ${r.error}`);
  if (r.downloaded?.length !== 1) throw new Error(`engine downloaded ${JSON.stringify(r.downloaded)}`);
  const { downloading, received } = r.marks;
  const downloadMs = downloading !== undefined && received !== undefined ? received - downloading : r.totalMs;
  await rm(root, { recursive: true, force: true });
  return { ms: r.totalMs, downloadMs };
}

const mibps = (bytes: number, ms: number) => bytes / MiB / (ms / 1000);
const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
const fmtSummary = (s: Summary) => `${fmtMs(s.median)} (${fmtMs(s.min)}–${fmtMs(s.max)})`;
const fmtRate = (r: number) => `${r.toFixed(1)} MiB/s`;
const fmtPct = (p: number) => `${p >= 0 ? '+' : '−'}${Math.abs(p).toFixed(1)} %`;

export async function networkSuite(o: NetworkOptions): Promise<string> {
  if (!haveNginx())
    throw new Error('bench:network needs nginx on PATH (Debian: apt-get install nginx-light)');
  const pub = path.join(o.work, 'pub');
  o.log(`publishing ${formatSize(o.sizeBytes)} and the cap tarballs under ${pub}`);
  const big = await publish(pub, 'big', o.sizeBytes);
  const capped = await Promise.all(
    ENGINE_CAPS.map((cap) => publish(pub, `cap-${cap / MiB}m`, cap * CAP_SECONDS)),
  );
  const servers: DirServer[] = [];
  const lines: string[] = [];
  try {
    const perConn = await nginxServer(pub, o.work, {
      prefixName: 'nginx-capped',
      directives: `limit_rate ${NGINX_CAP};`,
    });
    servers.push(perConn);
    const uncapped = await nginxServer(pub, o.work, { prefixName: 'nginx-open' });
    servers.push(uncapped);
    const out = path.join(o.work, 'curl.out');
    const root = path.join(o.work, 'root');

    // 1. One curl connection, the engine on one connection and the adaptive engine, with and without nginx's cap.
    lines.push(
      `### Parallel ranges against ${uncapped.name}: ${formatSize(o.sizeBytes)}`,
      '',
      '| nginx | Client | Time, median (min–max) | MiB/s | ÷ curl | ÷ engine, one connection |',
      '|---|---|---|---:|---:|---:|',
    );
    const CLIENTS = [
      ['curl', 'curl, one connection'],
      ['one', 'engine, `connections: 1`'],
      ['adaptive', 'engine, default (adaptive, up to 8)'],
    ] as const;
    const medians: Record<string, Record<string, number>> = {};
    for (const [label, server] of [
      [`\`limit_rate ${NGINX_CAP}\` per connection`, perConn],
      ['no cap', uncapped],
    ] as const) {
      const times: Record<string, number[]> = { curl: [], one: [], adaptive: [] };
      for (let run = 0; run < o.runs; run++) {
        // Rotate who goes first, so drift on a shared machine spreads evenly.
        const order = CLIENTS.map((_, i) => CLIENTS[(i + run) % CLIENTS.length]![0]);
        for (const who of order) {
          await prepare(big);
          if (who === 'curl') {
            const c = await curl(`${server.url}/${big.urlPath}`, out);
            if (c.bytes !== big.sizeBytes) throw new Error(`curl got ${c.bytes} bytes`);
            await rm(out, { force: true });
            times.curl!.push(c.ms);
          } else {
            const extra = who === 'one' ? { connections: 1 } : {};
            times[who]!.push((await engine(o.script, server, big, root, extra)).ms);
          }
        }
        o.log(
          `  ${label}, run ${run + 1}: ${CLIENTS.map(([who]) => `${who} ${fmtMs(times[who]!.at(-1)!)}`).join(', ')}`,
        );
      }
      const m: Record<string, number> = {};
      for (const [who, name] of CLIENTS) {
        const t = summarize(times[who]!);
        m[who] = t.median;
        const vsCurl = who === 'curl' ? '' : `${(m.curl! / t.median).toFixed(2)}×`;
        const vsOne = who === 'adaptive' ? `${(m.one! / t.median).toFixed(2)}×` : '';
        lines.push(
          `| ${label} | ${name} | ${fmtSummary(t)} | ${mibps(o.sizeBytes, t.median).toFixed(1)} | ${vsCurl} | ${vsOne} |`,
        );
      }
      medians[label] = m;
    }
    const [underCap, noCap] = Object.values(medians) as [Record<string, number>, Record<string, number>];
    const gain = underCap.curl! / underCap.adaptive!;
    const loss = (noCap.adaptive! / noCap.one! - 1) * 100;
    lines.push(
      '',
      `Under nginx's cap of ${NGINX_CAP_BYTES / MiB} MiB/s per connection the adaptive engine is ${gain.toFixed(2)}× one curl connection ` +
        `(goal ≥ ${GOAL_PARALLEL}×): ${gain >= GOAL_PARALLEL ? 'met' : 'not met'}.`,
      `Without a cap the adaptive engine's time is ${fmtPct(loss)} against the engine on one connection ` +
        `(goal: at most +${GOAL_NO_LOSS} %): ${loss <= GOAL_NO_LOSS ? 'met' : 'not met'}. ` +
        'Against curl the engine also hashes in the same pass, fsyncs and fetches the manifest.',
      '',
    );

    // 2. The engine's own cap against the uncapped nginx.
    lines.push(
      `### The engine's cap (\`limitRate\`) against ${uncapped.name} without a cap`,
      '',
      '| Cap | Client | Tarball | Download time, median (min–max) | Average rate, median (min–max) | Error vs cap (median; worst run) | Within 10 %? |',
      '|---|---|---|---|---|---|---|',
    );
    const capErrors: string[] = [];
    for (const [i, cap] of ENGINE_CAPS.entries()) {
      const p = capped[i]!;
      for (const who of ['engine', 'curl'] as const) {
        const times: number[] = [];
        for (let run = 0; run < o.runs; run++) {
          await prepare(p);
          if (who === 'engine')
            times.push((await engine(o.script, uncapped, p, root, { limitRate: cap })).downloadMs);
          else {
            const c = await curl(`${uncapped.url}/${p.urlPath}`, out, ['--limit-rate', `${cap / MiB}M`]);
            await rm(out, { force: true });
            times.push(c.ms);
          }
          o.log(`  cap ${cap / MiB} MiB/s, ${who}, run ${run + 1}: ${fmtMs(times.at(-1)!)}`);
        }
        const t = summarize(times);
        const rates = times.map((ms) => mibps(p.sizeBytes, ms));
        const r = summarize(rates);
        const err = (x: number) => ((x * MiB) / cap - 1) * 100;
        const worst = rates.map(err).reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a), 0);
        const ok = Math.abs(worst) <= GOAL_CAP_ERROR;
        if (who === 'engine') capErrors.push(`${cap / MiB} MiB/s: ${fmtPct(err(r.median))}`);
        lines.push(
          `| ${cap / MiB} MiB/s | ${who === 'engine' ? 'engine, `limitRate`' : 'curl `--limit-rate` (reference)'} | ${formatSize(p.sizeBytes)} | ${fmtSummary(t)} | ${fmtRate(r.median)} (${r.min.toFixed(1)}–${r.max.toFixed(1)}) | ${fmtPct(err(r.median))}; ${fmtPct(worst)} | ${ok ? 'yes' : 'no'} |`,
        );
      }
    }
    lines.push(
      '',
      "The engine's rate is the tarball's size over the time from its request to its last byte in and hashed " +
        "(the engine's own progress marks); curl's is over its whole run, start-up included.",
      `Engine cap error (median): ${capErrors.join(', ')}.`,
      '',
    );
  } finally {
    for (const s of servers) await s.stop();
    await rm(pub, { recursive: true, force: true });
  }
  return lines.join('\n');
}
