// "Move cache to…" killed (SIGKILL) at each step: a child process
// (fixtures/move-child.ts) moves a synced cache while its switchRoot writes
// the app's pointer file, as main/service does. The kill comes at a file's
// appearance or removal, watched by inotify (support/crash-points.ts), or,
// for moments no file marks (midway through the copy, the verify done), from
// the child's own progress callback. After every kill:
//   - the pointer names a root whose cache verifies in full;
//   - what the app does next works: removeMovedVmCache on the old root when
//     the pointer says one is left, then a second move (from the root in use;
//     to the same destination when the first never switched) and a sync that
//     downloads nothing; no staging folder, lock or old file is left anywhere.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ensureVmCacheSynced,
  moveVmCache,
  removeMovedVmCache,
  verifyVmCache,
} from '../../main/engine/index.js';
import { keyOf, listFiles, runTsChild, server, tempRoot } from '../helpers.js';
import { type CrashPoint, killAt } from './support/crash-points.js';
import { recordFigures, stopwatch } from './support/figures.js';
import { byMode, MiB } from './support/mode.js';

const CHILD = new URL('./fixtures/move-child.ts', import.meta.url).pathname;
const KILLS_PER_POINT = byMode(3, 1);
const MAX_TRIES = KILLS_PER_POINT * 4;

/** Where the kill comes: a file event under the sandbox (relative folder), or a step the child dies at. */
type MovePoint = { name: string } & (
  | { watch: Omit<CrashPoint, 'name'> }
  | { dieAt: 'copying' | 'switching' }
);

const isTarball = (n: string) => n.endsWith('.tar.gz');
const POINTS: MovePoint[] = [
  {
    name: 'the move recorded at the old root (before the copy)',
    watch: { dir: () => 'old/state', matches: (n) => n === 'moving-to.json' },
  },
  {
    name: 'the staging folder made (the copy begins)',
    watch: { dir: () => 'new', matches: (n) => n.startsWith('.moving-') },
  },
  { name: 'midway through the copy', dieAt: 'copying' },
  { name: 'verified, before the copy is placed', dieAt: 'switching' },
  {
    name: 'the copy placed (its cache folder renamed in), before the switch',
    watch: { dir: () => 'new', matches: (n) => n === 'cache' },
  },
  {
    name: 'the pointer switched',
    watch: { dir: () => '.', matches: (n) => n === 'pointer.json' },
  },
  {
    name: 'the old manifest removed (the delete begins)',
    watch: { dir: () => 'old/cache/vm', matches: (n) => n === 'manifest.json', gone: true },
  },
  {
    name: 'the first old tarball removed (mid-delete)',
    watch: { dir: () => 'old/cache/vm/images', matches: isTarball, gone: true },
  },
  {
    name: 'the move record removed at the old root (the delete done, the lock still held)',
    watch: { dir: () => 'old/state', matches: (n) => n === 'moving-to.json', gone: true },
  },
];

interface PointFigures {
  point: string;
  runs: number;
  hits: number;
  switched: number;
  violations: string[];
}
const results: PointFigures[] = [];
const elapsed = stopwatch();

async function readPointer(file: string): Promise<{ root: string; leaving?: string }> {
  return JSON.parse(await readFile(file, 'utf8')) as { root: string; leaving?: string };
}

/** Files and folders a move or a lock may leave: staging folders, lock files. */
async function leftovers(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((e) => /(^|\/)\.moving-|sync\.lock|moving-to\.json/.test(e));
}

describe('move killed at each step', () => {
  afterAll(async () => {
    await recordFigures({
      scenario: 'move-crash',
      rounds: results.reduce((n, r) => n + r.runs, 0),
      faultsInjected: results.reduce((n, r) => n + r.hits, 0),
      bytesServed: 0,
      failures: results.filter((r) => r.violations.length > 0).length,
      durationMs: elapsed(),
      notes: `${results.length} points x ${KILLS_PER_POINT} kills; switched when killed: ${results
        .map((r) => `${r.switched}/${r.hits}`)
        .join(', ')}`,
      detail: results,
    });
  });

  for (const point of POINTS) {
    it(`killed at "${point.name}": the pointer names a complete cache, then cleanup, a second move and a sync complete`, async () => {
      const s = await server({
        artifacts: [
          { agent: 'a', version: '1', arch: 'x64', sizeBytes: 2 * MiB },
          { agent: 'b', version: '1', arch: 'x64', sizeBytes: 2 * MiB },
        ],
      });
      const sync = (root: string) =>
        ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
      const violations: string[] = [];
      let hits = 0;
      let runs = 0;
      let switchedAtKill = 0;
      for (let tries = 0; hits < KILLS_PER_POINT && tries < MAX_TRIES; tries++) {
        const base = await tempRoot();
        const old = path.join(base, 'old');
        const dest = path.join(base, 'new');
        const third = path.join(base, 'third');
        const pointer = path.join(base, 'pointer.json');
        await sync(old);
        await mkdir(dest);
        await writeFile(pointer, `${JSON.stringify({ root: old })}\n`);
        const args = [old, dest, pointer, ...('dieAt' in point ? [point.dieAt] : [])];
        const start = () => runTsChild(CHILD, args);
        let killed: boolean;
        let outcome: Awaited<ReturnType<typeof runTsChild>['done']>;
        if ('watch' in point) {
          await mkdir(path.join(base, point.watch.dir('')), { recursive: true });
          const { run, hit } = await killAt(base, '', { name: point.name, ...point.watch }, start);
          outcome = await run.done;
          killed = hit && outcome.code === null;
        } else {
          outcome = await start().done;
          killed = outcome.code === null;
        }
        runs++;
        const label = `${killed ? 'kill' : 'run'} ${runs}`;
        if (!killed && outcome.code !== 0) {
          violations.push(
            `${label}: the move failed: ${JSON.stringify(outcome.lines.at(-1))} ${outcome.stderr}`,
          );
          continue;
        }
        if (killed) hits++;

        // The pointer names a complete cache.
        let ptr = await readPointer(pointer);
        if (ptr.root !== old) switchedAtKill += killed ? 1 : 0;
        const report = await verifyVmCache({ root: ptr.root, rawHostArch: 'x64' });
        if (!report.ok || report.entries.length !== 2)
          violations.push(
            `${label}: the pointer names ${ptr.root}, which does not verify: ${JSON.stringify(report)}`,
          );

        // What the app does at its next start: remove what the move left at the old root.
        if (ptr.leaving) {
          await removeMovedVmCache({ from: ptr.leaving }).catch((e: Error) =>
            violations.push(`${label}: removeMovedVmCache failed: ${e.message}`),
          );
          ptr = { root: ptr.root };
          await writeFile(pointer, `${JSON.stringify(ptr)}\n`);
        }
        // A second move from the root in use: to the same destination when the first never switched.
        const next = ptr.root === old ? dest : third;
        try {
          await moveVmCache({
            from: ptr.root,
            to: next,
            switchRoot: (root) => writeFile(pointer, `${JSON.stringify({ root })}\n`),
          });
        } catch (e) {
          violations.push(
            `${label}: the second move (${ptr.root} -> ${next}) failed: ${(e as Error).message}`,
          );
          continue;
        }
        ptr = await readPointer(pointer);
        if (ptr.root !== next) violations.push(`${label}: the pointer names ${ptr.root}, not ${next}`);
        const after = await verifyVmCache({ root: next, rawHostArch: 'x64' });
        if (!after.ok) violations.push(`${label}: ${next} does not verify after the second move`);
        const result = await sync(next).catch((e: Error) => e);
        if (result instanceof Error) violations.push(`${label}: the sync after failed: ${result.message}`);
        else if (result.downloaded.length > 0)
          violations.push(`${label}: the sync after downloaded ${result.downloaded.join(', ')}`);
        // Nothing left behind: the other roots hold no file, no staging, no lock.
        for (const dir of [old, dest, third].filter((d) => d !== next)) {
          const files = await listFiles(dir);
          if (files.length > 0) violations.push(`${label}: ${dir} still holds ${files.join(', ')}`);
        }
        const left = await leftovers(base);
        if (left.length > 0) violations.push(`${label}: left behind: ${left.join(', ')}`);
        if (!existsSync(path.join(next, 'cache', keyOf(s, 'a'))))
          violations.push(`${label}: ${next} lacks a tarball`);
      }
      if (hits < KILLS_PER_POINT)
        violations.push(`only ${hits} of ${KILLS_PER_POINT} kills landed at the point`);
      results.push({ point: point.name, runs, hits, switched: switchedAtKill, violations });
      expect(violations).toEqual([]);
    }, 120_000);
  }
});
