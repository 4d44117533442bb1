// `vm-cache move --to DIR`: usage errors, a move with its step lines and the
// note that later commands need --root, --json lines, refusals with the old
// cache byte-identical, and a damaged tarball refused with exit 4.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempRoot } from '../helpers.js';
import { expectCode, flipByte, HOST_ARCH, jsonLines, runCli, snapshot, writeTarballs } from './helpers.js';

/** A cache at `<base>/old`, filled by `vm-cache import` from a folder of two tarballs. */
async function cached(): Promise<{ base: string; old: string; keys: string[] }> {
  const base = await tempRoot();
  const mirror = path.join(base, 'mirror');
  const hashes = await writeTarballs(mirror, [
    { agent: 'a', version: '1', arch: HOST_ARCH, size: 400_000 },
    { agent: 'b', version: '1', arch: HOST_ARCH, size: 300_000 },
  ]);
  const agents: Record<string, unknown> = {};
  for (const [key, sha256] of Object.entries(hashes)) {
    const agent = path.basename(key).split('-')[0]!;
    const size = agent === 'a' ? 400_000 : 300_000;
    agents[agent] = { version: '1', tarballs: { [HOST_ARCH]: { key, sha256, sizeBytes: size } } };
  }
  const doc = { schemaVersion: 2, updatedAt: '2026-06-01T00:00:00.000Z', agents };
  await writeFile(path.join(mirror, 'vm', 'manifest.json'), `${JSON.stringify(doc, null, 2)}\n`);
  const old = path.join(base, 'old');
  expectCode(await runCli(['import', mirror, '--root', old]), 0);
  return { base, old, keys: Object.keys(hashes).sort() };
}

describe('vm-cache move', () => {
  it('usage errors: exit 2 with what to run instead', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['move'], /move: --to is required; run `vm-cache move --help` for usage/],
      [['move', '--to'], /move: option --to needs a value/],
      [['move', '--to', '/tmp/x', 'extra'], /move: unexpected argument "extra"/],
      [['move', '--to', '/tmp/x', '--force'], /move: unknown option --force/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    results.forEach((r, i) => {
      expectCode(r, 2);
      expect(r.stderr).toMatch(cases[i]![1]);
    });
    const json = await runCli(['move', '--json']);
    expectCode(json, 2);
    expect(jsonLines(json.stdout).at(-1)).toMatchObject({ type: 'error', code: 'ERR_USAGE', exitCode: 2 });
  });

  it('is in the help', async () => {
    const top = await runCli(['--help']);
    expect(top.stdout).toMatch(/move --to DIR\s+move the cache to another folder or disk/);
    const own = await runCli(['move', '--help']);
    expectCode(own, 0);
    expect(own.stdout).toMatch(/^Usage: vm-cache move --to DIR \[--root DIR\] \[--json\]/);
  });

  it('moves the cache: a line per step, then where it is now and that the next commands need --root', async () => {
    const { base, old, keys } = await cached();
    const before = await snapshot(path.join(old, 'cache'));
    const to = path.join(base, 'disk', 'vm-cache');
    const r = await runCli(['move', '--root', old, '--to', to]);
    expectCode(r, 0);
    expect(r.stdout).toContain(`vm-cache move: copying 7`);
    expect(r.stdout).toContain(`from ${old} to ${to}…`);
    expect(r.stdout).toContain('vm-cache move: verifying the copy (sha256 of every file, read back)…');
    expect(r.stdout).toContain(`vm-cache move: switching to ${to}…`);
    expect(r.stdout).toContain(`vm-cache move: removing the old copy at ${old}…`);
    expect(r.stdout).toMatch(new RegExp(`Moved 70\\d kB \\(\\d+ files\\) from ${old} to ${to}\\.`));
    expect(r.stdout).toContain(
      `The cache is now at ${to}: the next commands need --root ${to} (or VM_CACHE_ROOT=${to}).`,
    );
    expect(existsSync(old)).toBe(false);
    expect(await snapshot(path.join(to, 'cache'))).toEqual(before);
    expect(Object.keys(before).sort()).toEqual([...keys, 'vm/manifest.json'].sort());
    expectCode(await runCli(['verify', '--root', to]), 0);
  });

  it('--json: progress lines, then the result; the note on stderr', async () => {
    const { base, old } = await cached();
    const to = path.join(base, 'new');
    const r = await runCli(['move', '--to', to, '--json'], { env: { VM_CACHE_ROOT: old } });
    expectCode(r, 0);
    const lines = jsonLines(r.stdout);
    const result = lines.at(-1)!;
    expect(result).toMatchObject({ type: 'result', from: old, root: to, files: expect.any(Number) });
    expect(result.movedBytes).toBeGreaterThan(700_000);
    const progress = lines.slice(0, -1);
    expect(progress.every((l) => l.type === 'progress')).toBe(true);
    const steps = progress.map((l) => l.step).filter((s, i, all) => s !== all[i - 1]);
    expect(steps).toEqual(['copying', 'verifying', 'switching', 'removing']);
    expect(progress.at(-1)).toMatchObject({ doneBytes: result.movedBytes, totalBytes: result.movedBytes });
    expect(r.stderr).toContain(`the next commands need --root ${to}`);
    expect(r.stderr).toContain(`VM_CACHE_ROOT still names ${old}`);
  });

  it('refuses a folder that is not empty (exit 1) and a damaged tarball (exit 4), the old cache unchanged', async () => {
    const { base, old, keys } = await cached();
    const taken = path.join(base, 'taken');
    await mkdir(taken);
    await writeFile(path.join(taken, 'notes.txt'), 'mine');
    const before = await snapshot(old);
    const refused = await runCli(['move', '--root', old, '--to', taken, '--json']);
    expectCode(refused, 1);
    expect(jsonLines(refused.stdout).at(-1)).toMatchObject({ type: 'error', code: 'ERR_CACHE_LAYOUT' });
    expect(refused.stderr).toMatch(/the folder is not empty .*notes\.txt.*nothing was moved/);

    await flipByte(path.join(old, 'cache', keys[0]!), 100);
    const damaged = await snapshot(old);
    const r = await runCli(['move', '--root', old, '--to', path.join(base, 'new')]);
    expectCode(r, 4);
    expect(r.stderr).toMatch(/sha256 mismatch .*repair it first \(`vm-cache verify --repair`/);
    expect(await snapshot(old)).toEqual(damaged);
    expect(Object.keys(damaged)).toEqual(Object.keys(before));
    expect(existsSync(path.join(base, 'new'))).toBe(false);
  });
});
