// `vm-cache sync` as a real child process against the artifact server on
// 127.0.0.1: JSON lines without a terminal, the live display on a
// pseudo-terminal, Ctrl-C then resume, and every exit code.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { formatBytes } from '../../contract/index.js';
import { ARCH, publish, release, twoVersions } from '../engine/delta-fixtures.js';
import { keyOf, oneArtifactServer, server, tempRoot } from '../helpers.js';
import { CLI, cleanEnv, jsonLines, REPO, runCli, sha256, snapshot, startCli } from './helpers.js';

// Each test runs the real CLI as child processes, each about a second of CPU (tsx compiles
// the sources on the fly): the ten usage errors at once took over 30 s (the old timeout)
// on a loaded 2-core machine, and the delta test on a pseudo-terminal 23 s. The timeout is
// no speed check: it only has to end a hang.
vi.setConfig({ testTimeout: 120_000 });

const ESC = String.fromCharCode(27);

async function closedPortUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return `http://127.0.0.1:${port}/vm/manifest.json`;
}

describe('vm-cache sync', () => {
  it('without a terminal: JSON lines that all parse, progress events, then the result', async () => {
    const s = await oneArtifactServer();
    const root = await tempRoot();
    const key = keyOf(s);
    const r = await runCli(['sync', '--manifest', s.manifestUrl, '--root', root]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    const progress = lines.filter((l) => l.type === 'progress');
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.every((p) => typeof p.phase === 'string' && Array.isArray(p.artifacts))).toBe(true);
    expect(progress.at(-1)!.phase).toBe('done');
    const states = progress.flatMap((p) => (p.artifacts as Array<{ state: string }>).map((a) => a.state));
    expect(states).toContain('verified');
    expect(lines.at(-1)).toEqual({
      type: 'result',
      downloaded: [key],
      manifestPath: path.join(root, 'cache', 'vm', 'manifest.json'),
      skipped: false,
    });
    expect(sha256(await readFile(path.join(root, 'cache', key)))).toBe(sha256(s.contentOf(key)));

    // A second run is the warm path: skipped, no tarball request.
    const again = await runCli(['sync', '--manifest', s.manifestUrl, '--root', root, '--json']);
    expect(again.code).toBe(0);
    expect(jsonLines(again.stdout).at(-1)).toMatchObject({ type: 'result', downloaded: [], skipped: true });
    expect(s.requests.filter((q) => q.path === key)).toHaveLength(1);
  });

  it('on a pseudo-terminal: a live display redrawn in place, with the artifact row and "sha256 verified"', async () => {
    const s = await oneArtifactServer(600_000);
    const root = await tempRoot();
    const cmd = [process.execPath, CLI, 'sync', '--manifest', s.manifestUrl, '--root', root].join(' ');
    // script(1) runs the command on a new pseudo-terminal; -e returns its exit code.
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
      cwd: REPO,
      env: cleanEnv({ COLUMNS: '100', LINES: '30' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(out).not.toMatch(/"type":"progress"/); // a person's display, not JSON
    expect(out).toMatch(/openclaw 2026\.4\.12 x64/);
    expect(out).toContain('sha256 verified');
    const sha = (s.manifest.agents as Record<string, { tarballs: Record<string, { sha256: string }> }>)
      .openclaw!.tarballs.x64!.sha256;
    expect(out).toContain(`sha256 verified ${sha.slice(0, 12)}`);
    expect(out).toMatch(/total\s+\[/);
    expect(out).toMatch(new RegExp(`${ESC}\\[\\d+A`)); // cursor up: redrawn in place
    expect(out).toContain('\u001b[2K'); // line erased before each redraw
    expect(out).toContain('\u001b[?25h'); // cursor shown again at the end
    expect(out).toContain('Downloaded and verified 1 tarball');
  });

  it('a delta update published by the default manifest build, on a pseudo-terminal, says what it reused; --no-delta fetches whole', async () => {
    const dir = await tempRoot();
    const { v1, v2 } = twoVersions();
    // Published as a release engineer would: each tarball dropped into the CDN folder, then
    // `vm-cache manifest build` with its defaults (the chunk index beside each tarball).
    const r1 = { key: `vm/images/agent-1-${ARCH}.tar.gz`, bytes: v1 };
    const r2 = { key: `vm/images/agent-2-${ARCH}.tar.gz`, bytes: v2 };
    const publishWithBuild = async (r: { key: string; bytes: Buffer }, n: number) => {
      const { rm: remove } = await import('node:fs/promises');
      await remove(path.join(dir, 'vm', 'images'), { recursive: true, force: true });
      await mkdir(path.join(dir, 'vm', 'images'), { recursive: true });
      await writeFile(path.join(dir, r.key), r.bytes);
      const out = path.join(dir, 'vm', 'manifest.json');
      const built = await runCli(['manifest', 'build', dir, '--out', out, '--manifest-version', String(n)]);
      expect(built.code, built.stderr).toBe(0);
      expect(existsSync(path.join(dir, `${r.key}.chunks.json`))).toBe(true);
    };
    await publishWithBuild(r1, 1);
    const s = await server({ dir });
    const onTerminal = async (root: string, ...extra: string[]) => {
      const cmd = [process.execPath, CLI, 'sync', '--manifest', s.manifestUrl, '--root', root, ...extra];
      const child = spawn('script', ['-qfec', cmd.join(' '), '/dev/null'], {
        cwd: REPO,
        env: cleanEnv({ COLUMNS: '120', LINES: '30' }),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        out += c;
      });
      expect(await new Promise<number | null>((resolve) => child.on('close', resolve))).toBe(0);
      return out;
    };
    const [root, whole] = [await tempRoot(), await tempRoot()];
    await onTerminal(root);
    await onTerminal(whole);
    await publishWithBuild(r2, 2);

    const out = await onTerminal(root);
    const fetched = s.bytesServed(r2.key);
    // About 5 % of it changed: far less than the tarball came over the network.
    expect(fetched).toBeLessThan(v2.length * 0.15);
    const words = `reused ${formatBytes(v2.length - fetched)} from the cached version, downloaded ${formatBytes(fetched)}`;
    expect(out).toContain(`Downloaded and verified 1 tarball (${formatBytes(v2.length)}): ${words}.`);
    // The live rows said it while it ran.
    expect(out).toContain(`reused ${formatBytes(v2.length - fetched)} from the cached version, downloading`);
    expect(sha256(await readFile(path.join(root, 'cache', r2.key)))).toBe(sha256(v2));

    const plain = await onTerminal(whole, '--no-delta');
    expect(s.bytesServed(r2.key) - fetched).toBe(v2.length);
    expect(plain).not.toContain('reused');
  });

  it('verify --repair: names the bad bytes, then fetches only their chunks; exit 0 and a cache that verifies', async () => {
    const dir = await tempRoot();
    const r1 = await release('1', twoVersions().v1);
    // A second agent, intact: the repair's figure counts only what it fetched.
    const other = await release('other-1', twoVersions().v2);
    await publish(dir, r1, 1, { other });
    const s = await server({ dir });
    const root = await tempRoot();
    expect((await runCli(['sync', '--manifest', s.manifestUrl, '--root', root, '--json'])).code).toBe(0);
    const file = path.join(root, 'cache', r1.key);
    const bytes = Buffer.from(await readFile(file));
    bytes.writeUInt8(bytes.readUInt8(3_000_000) ^ 0xff, 3_000_000);
    await writeFile(file, bytes);
    const served = s.bytesServed(r1.key);

    const r = await runCli(['verify', '--root', root, '--repair', '--manifest', s.manifestUrl]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/CORRUPT: [\d.]+ kB bad at bytes \d+-\d+ \(kept for repair\)/);
    const fetched = s.bytesServed(r1.key) - served;
    expect(s.requests.filter((q) => q.path === other.key)).toHaveLength(1);
    // One chunk: at most the chunker's maximum of 256 KiB.
    expect(fetched).toBeGreaterThan(0);
    expect(fetched).toBeLessThanOrEqual(256 << 10);
    expect(r.stdout).toContain(`Repaired 1 tarball, fetching ${formatBytes(fetched)}.`);
    expect(sha256(await readFile(file))).toBe(sha256(r1.bytes));
    expect((await runCli(['verify', '--root', root])).code).toBe(0);
  });

  it('--mirror (repeatable): a refusing mirror is left for the next, the download verifies; a bad URL is a usage error', async () => {
    const s = await oneArtifactServer();
    const [dead, good] = [await oneArtifactServer(), await oneArtifactServer()];
    const key = keyOf(s);
    dead.setFault(key, { status: 503 });
    const root = await tempRoot();
    const r = await runCli([
      'sync',
      '--manifest',
      s.manifestUrl,
      '--root',
      root,
      '--mirror',
      dead.url,
      '--mirror',
      good.url,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(dead.requests.filter((q) => q.path === key)).toHaveLength(1);
    expect(good.bytesServed(key)).toBe(s.contentOf(key).length);
    expect(s.requests.filter((q) => q.path === key)).toHaveLength(0);
    expect(sha256(await readFile(path.join(root, 'cache', key)))).toBe(sha256(s.contentOf(key)));
    const bad = await runCli(['sync', '--manifest', s.manifestUrl, '--root', root, '--mirror', 'not a url']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--mirror: mirror "not a url" refused: not a URL');
    const ftp = await runCli(['sync', '--manifest', s.manifestUrl, '--root', root, '--mirror', 'ftp://x/']);
    expect(ftp.code).toBe(2);
    expect(ftp.stderr).toContain('unsupported URL scheme ftp:');
  });

  it('Ctrl-C mid-download: exit 130, the partial kept; the next run fetches only the remainder', async () => {
    const size = 2_000_000;
    const s = await oneArtifactServer(size);
    const key = keyOf(s);
    s.setFault(key, { dripBytesPerSec: 1_000_000 });
    const root = await tempRoot();
    const cli = startCli(['sync', '--manifest', s.manifestUrl, '--root', root]);
    await cli.waitForStdout((out) =>
      out
        .split('\n')
        .slice(0, -1) // complete lines only
        .some((l) => (JSON.parse(l) as { receivedBytes?: number }).receivedBytes! >= 200_000),
    );
    cli.child.kill('SIGINT');
    const first = await cli.done;
    expect(first.code).toBe(130);
    expect(first.stderr).toMatch(/^vm-cache: .*cancelled/);
    expect(jsonLines(first.stdout).at(-1)).toMatchObject({ type: 'error', code: 'ERR_ABORTED' });
    const partial = path.join(root, 'cache', `${key}.partial`);
    const kept = (await stat(partial)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(size);
    expect(existsSync(path.join(root, 'cache', key))).toBe(false);
    expect(existsSync(path.join(root, 'cache', 'vm', 'manifest.json'))).toBe(false);

    s.setFault(key, undefined);
    const before = s.bytesServed(key);
    const second = await runCli(['sync', '--manifest', s.manifestUrl, '--root', root]);
    expect(second.code).toBe(0);
    expect(s.bytesServed(key) - before).toBe(size - kept);
    expect(s.requests.filter((q) => q.path === key).at(-1)!.range).toBe(`bytes=${kept}-`);
    expect(sha256(await readFile(path.join(root, 'cache', key)))).toBe(sha256(s.contentOf(key)));
  });
});

describe('vm-cache exit codes', () => {
  it('2: usage errors (unknown flag, missing value, no manifest URL, unknown command) say what to do', async () => {
    const root = await tempRoot();
    const [
      unknown,
      noUrl,
      badRetries,
      missingValue,
      nonsense,
      nothing,
      help,
      syncHelp,
      badRate,
      badConnections,
    ] = await Promise.all([
      runCli(['sync', '--frobnicate']),
      runCli(['sync', '--root', root]),
      runCli(['sync', '--retries', 'many', '--manifest', 'http://127.0.0.1:1/m']),
      runCli(['sync', '--manifest']),
      runCli(['nonsense']),
      runCli([]),
      runCli(['--help']),
      runCli(['sync', '--help']),
      runCli(['sync', '--limit-rate', 'fast', '--manifest', 'http://127.0.0.1:1/m']),
      runCli(['sync', '--connections', '0', '--manifest', 'http://127.0.0.1:1/m']),
    ]);
    expect(badConnections.code).toBe(2);
    expect(badConnections.stderr).toContain('--connections must be a whole number from 1 to 32, got "0"');
    expect(badRate.code).toBe(2);
    expect(badRate.stderr).toContain(
      '--limit-rate fast: expected bytes per second, or a number with K, M or G',
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /^vm-cache: sync: unknown option --frobnicate; run `vm-cache sync --help`/,
    );
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain('--manifest URL or set VM_CACHE_MANIFEST_URL');
    expect(jsonLines(noUrl.stdout)).toEqual([
      expect.objectContaining({ type: 'error', code: 'ERR_USAGE', exitCode: 2 }),
    ]);
    expect(badRetries.code).toBe(2);
    expect(badRetries.stderr).toContain('--retries must be a whole number');
    expect(missingValue.code).toBe(2);
    expect(missingValue.stderr).toContain('option --manifest needs a value');
    expect(nonsense.code).toBe(2);
    expect(nonsense.stderr).toMatch(/unknown command "nonsense".*vm-cache --help/);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('Usage: vm-cache <command>');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(
      /Exit codes:[\s\S]*2 +usage error[\s\S]*3 +network[\s\S]*4 +integrity[\s\S]*5 +disk full[\s\S]*130 +cancelled/,
    );
    expect(syncHelp.code).toBe(0);
    expect(syncHelp.stdout).toContain('--public-key');
    expect(syncHelp.stdout).toContain('--limit-rate RATE');
    expect(syncHelp.stdout).toContain('--connections N');
  });

  it('3: network failure, for a 404 manifest and for a closed port', async () => {
    const s = await oneArtifactServer();
    s.setFault('vm/manifest.json', { status: 404 });
    const notFound = await runCli(['sync', '--manifest', s.manifestUrl, '--root', await tempRoot()]);
    expect(notFound.code).toBe(3);
    expect(notFound.stderr).toMatch(/^vm-cache: manifest fetch failed: .*HTTP 404\n$/);
    expect(jsonLines(notFound.stdout).at(-1)).toMatchObject({ type: 'error', code: 'ERR_MANIFEST_FETCH' });

    const refused = await runCli([
      'sync',
      '--manifest',
      await closedPortUrl(),
      '--root',
      await tempRoot(),
      '--retries',
      '0',
    ]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^vm-cache: manifest fetch failed/);
  });

  it('4: integrity failure for a corrupted byte; the earlier cache is untouched', async () => {
    const v1 = await oneArtifactServer();
    const root = await tempRoot();
    expect((await runCli(['sync', '--manifest', v1.manifestUrl, '--root', root])).code).toBe(0);
    const before = await snapshot(path.join(root, 'cache'));

    const v2 = await server({
      artifacts: [{ agent: 'openclaw', version: '2026.5.1', arch: 'x64', sizeBytes: 300_000 }],
    });
    const key = keyOf(v2);
    v2.setFault(key, { corruptByteAt: 1234 });
    const r = await runCli(['sync', '--manifest', v2.manifestUrl, '--root', root]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^vm-cache: sha256 mismatch for vm\/images\/openclaw-2026\.5\.1-x64\.tar\.gz/);
    expect(jsonLines(r.stdout).at(-1)).toMatchObject({
      type: 'error',
      code: 'ERR_SHA256_MISMATCH',
      exitCode: 4,
    });
    expect(await snapshot(path.join(root, 'cache'))).toEqual(before);
  });

  describe('5: disk full', () => {
    const mnt = path.join(REPO, 'node_modules', '.cache', `vm-cache-tmpfs-${process.pid}`);
    let mounted = false;
    afterAll(async () => {
      if (mounted) spawnSync('umount', [mnt]);
      await rmdir(mnt).catch(() => {});
    });

    it('a 16 MB artifact into an 8 MB tmpfs exits 5 and leaves nothing behind', async (ctx) => {
      await mkdir(mnt, { recursive: true });
      const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt], { encoding: 'utf8' });
      if (m.status !== 0) {
        ctx.skip(`cannot mount a tmpfs here (needs root): ${m.stderr.trim()}`);
        return;
      }
      mounted = true;
      const s = await server({
        artifacts: [{ agent: 'openclaw', version: '2026.4.12', arch: 'x64', sizeBytes: 16 * 1024 * 1024 }],
      });
      const r = await runCli(['sync', '--manifest', s.manifestUrl, '--root', mnt]);
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/^vm-cache: disk full at .*free some space/);
      expect(jsonLines(r.stdout).at(-1)).toMatchObject({ type: 'error', code: 'ERR_DISK_FULL', exitCode: 5 });
      expect(Object.keys(await snapshot(path.join(mnt, 'cache')))).toEqual([]);
    });
  });
});
