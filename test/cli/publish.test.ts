// The publishing side end to end, all through the real executable: keygen ->
// manifest build -> manifest sign -> serve --dir -> sync --public-key; and a
// tampered manifest, a tampered signature, a wrong key each refused (exit 4)
// with the earlier cache byte-identical.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { parseChunkIndex } from '../../main/engine/index.js';
import { tempRoot } from '../helpers.js';
import {
  expectCode,
  HOST_ARCH,
  jsonLines,
  type RunningCli,
  runCli,
  snapshot,
  startCli,
  writeTarballs,
} from './helpers.js';

// Each test runs the real CLI as child processes, one after another, each about a second
// of CPU (tsx compiles the sources on the fly): the first test here makes over a dozen, and took
// 21 s on an idle 2-core machine and over 30 s (the old timeout) on a loaded one. The
// timeout is no speed check: it only has to end a hang.
vi.setConfig({ testTimeout: 120_000 });

interface Manifest {
  schemaVersion: number;
  updatedAt: string;
  agents: Record<
    string,
    {
      image: string;
      version: string;
      tarballs: Record<string, { key: string; sha256: string; sizeBytes: number }>;
    }
  >;
}

async function serve(dir: string): Promise<{ cli: RunningCli; manifestUrl: string }> {
  const cli = startCli(['serve', '--dir', dir, '--json']);
  await cli.waitForStdout((out) => out.includes('"type":"listening"'));
  const listening = jsonLines(cli.stdout().split('\n')[0]!)[0]!;
  return { cli, manifestUrl: listening.manifestUrl as string };
}

interface IndexedEntry {
  key: string;
  sha256: string;
  sizeBytes: number;
  chunkIndex: { key: string; sha256: string; sizeBytes: number };
}

/** What manifest build writes for a tarball's chunk index (issue #15). */
const indexRef = (key: string) => ({
  key: `${key}.chunks.json`,
  sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
  sizeBytes: expect.any(Number),
});

describe('keygen, manifest build, manifest sign, serve, sync --public-key', () => {
  it('a signed mirror syncs with the key; tampering and wrong keys are refused with the cache untouched', async () => {
    const work = await tempRoot();
    const keys = path.join(work, 'keys');
    const mirror = path.join(work, 'mirror');
    const root = path.join(work, 'root');

    // keygen: private key 0600, public key printed and on disk.
    const kg = await runCli(['keygen', '--out', keys]);
    expectCode(kg, 0);
    const printed = /public key: (\S+)/.exec(kg.stdout)![1]!;
    expect((await stat(path.join(keys, 'vm-cache.key'))).mode & 0o777).toBe(0o600);
    const pubPem = await readFile(path.join(keys, 'vm-cache.pub'), 'utf8');
    const raw = Buffer.from(createPublicKey(pubPem).export({ format: 'jwk' }).x!, 'base64url');
    expect(Buffer.from(printed, 'base64')).toEqual(raw);
    // A second keygen into the same folder refuses to overwrite the pair.
    expect((await runCli(['keygen', '--out', keys])).code).toBe(2);

    // manifest build: every file hashed, the schema-2 document the engine accepts.
    const hashes = await writeTarballs(mirror, [
      { agent: 'openclaw', version: '2026.4.12', arch: 'x64', size: 150_000 },
      { agent: 'openclaw', version: '2026.4.12', arch: 'arm64', size: 120_000 },
      { agent: 'claude-code', version: '1.2.3-rc.1', arch: HOST_ARCH, size: 50_000 },
    ]);
    await writeFile(path.join(mirror, 'vm', 'images', 'README.txt'), 'not a tarball');
    await writeFile(path.join(mirror, 'vm', 'images', 'oddly-named.tar.gz'), 'x');
    const manifestFile = path.join(mirror, 'vm', 'manifest.json');
    const build = await runCli(['manifest', 'build', mirror, '--out', manifestFile, '--version-from-name']);
    expectCode(build, 0);
    expect(build.stderr).toContain('skipped vm/images/oddly-named.tar.gz');
    expect(build.stdout).toContain('2 agents, 3 tarballs');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest;
    expect(manifest.schemaVersion).toBe(2);
    expect(Date.now() - Date.parse(manifest.updatedAt)).toBeLessThan(60_000);
    expect(manifest.agents.openclaw).toEqual({
      image: 'ghcr.io/openclaw/openclaw',
      version: '2026.4.12',
      tarballs: {
        arm64: {
          key: 'vm/images/openclaw-2026.4.12-arm64.tar.gz',
          sha256: hashes['vm/images/openclaw-2026.4.12-arm64.tar.gz'],
          sizeBytes: 120_000,
          chunkIndex: indexRef('vm/images/openclaw-2026.4.12-arm64.tar.gz'),
        },
        x64: {
          key: 'vm/images/openclaw-2026.4.12-x64.tar.gz',
          sha256: hashes['vm/images/openclaw-2026.4.12-x64.tar.gz'],
          sizeBytes: 150_000,
          chunkIndex: indexRef('vm/images/openclaw-2026.4.12-x64.tar.gz'),
        },
      },
    });
    expect(manifest.agents['claude-code']!.version).toBe('1.2.3-rc.1');
    // The index beside each tarball is the one the manifest names, and describes that tarball.
    const x64 = (manifest.agents.openclaw!.tarballs as Record<string, IndexedEntry>).x64!;
    const indexText = await readFile(path.join(mirror, x64.chunkIndex.key));
    expect(createHash('sha256').update(indexText).digest('hex')).toBe(x64.chunkIndex.sha256);
    expect(indexText.length).toBe(x64.chunkIndex.sizeBytes);
    expect(parseChunkIndex(indexText, x64, x64.chunkIndex.key).sizeBytes).toBe(150_000);

    // manifest sign: FILE.sig is base64 of a 64-byte Ed25519 signature over the exact bytes, plus "\n".
    expectCode(await runCli(['manifest', 'sign', manifestFile, '--key', path.join(keys, 'vm-cache.key')]), 0);
    const sigText = await readFile(`${manifestFile}.sig`, 'utf8');
    expect(sigText).toMatch(/^[A-Za-z0-9+/]{86}==\n$/);
    expect(verify(null, await readFile(manifestFile), pubPem, Buffer.from(sigText, 'base64'))).toBe(true);

    const { cli: server, manifestUrl } = await serve(mirror);
    try {
      // With the key (as the .pub file): synced, and the host's tarballs are byte-identical.
      const ok = await runCli([
        'sync',
        '--manifest',
        manifestUrl,
        '--root',
        root,
        '--public-key',
        path.join(keys, 'vm-cache.pub'),
      ]);
      expectCode(ok, 0);
      expect(jsonLines(ok.stdout).at(-1)).toMatchObject({ type: 'result', skipped: false });
      const cache = await snapshot(path.join(root, 'cache'));
      for (const [key, sha] of Object.entries(hashes)) {
        if (key.endsWith(`-${HOST_ARCH}.tar.gz`)) expect(cache[key]).toBe(sha);
      }
      // The key as keygen printed it works too (the warm path: nothing downloaded).
      const again = await runCli([
        'sync',
        '--manifest',
        manifestUrl,
        '--root',
        root,
        '--public-key',
        printed,
      ]);
      expectCode(again, 0);
      expect(jsonLines(again.stdout).at(-1)).toMatchObject({ type: 'result', skipped: true });
      const good = await snapshot(path.join(root, 'cache'));

      const refused = async (label: string, args: string[] = ['--public-key', printed]) => {
        const r = await runCli(['sync', '--manifest', manifestUrl, '--root', root, ...args]);
        expect(r.code, `${label}: ${r.stderr}`).toBe(4);
        expect(r.stderr, label).toMatch(/^vm-cache: manifest signature/);
        expect(jsonLines(r.stdout).at(-1), label).toMatchObject({
          type: 'error',
          code: 'ERR_SIGNATURE',
          exitCode: 4,
        });
        expect(await snapshot(path.join(root, 'cache')), label).toEqual(good);
      };

      // A tampered manifest: a new tarball and a rebuilt manifest, the old signature left in place.
      const signed = await readFile(manifestFile);
      await writeTarballs(mirror, [
        { agent: 'openclaw', version: '2026.4.12', arch: HOST_ARCH, size: 150_000 },
      ]);
      expectCode(await runCli(['manifest', 'build', mirror, '--out', manifestFile]), 0);
      const served = () =>
        jsonLines(server.stdout())
          .filter((l) => l.type === 'request')
          .map((l) => String(l.path));
      const requestsBefore = served().length;
      await refused('tampered manifest');
      // Refused before any tarball was asked for. The server logs requests in
      // order (as JSON lines): once a marker request is logged, every earlier one is.
      const marker = `marker-${Date.now()}`;
      await fetch(new URL(`/${marker}`, manifestUrl));
      await server.waitForStdout(() => served().includes(marker));
      const since = served().slice(requestsBefore);
      expect(since).toContain('vm/manifest.json');
      expect(since.filter((p) => p.endsWith('.tar.gz'))).toEqual([]);
      await writeFile(manifestFile, signed);

      // A tampered signature.
      const sig = Buffer.from(sigText.trim(), 'base64');
      sig[10] = sig[10]! ^ 0x01;
      await writeFile(`${manifestFile}.sig`, `${sig.toString('base64')}\n`);
      await refused('tampered signature');
      await writeFile(`${manifestFile}.sig`, sigText);

      // The right files, the wrong key.
      const other = path.join(work, 'other-keys');
      expectCode(await runCli(['keygen', '--out', other]), 0);
      await refused('wrong key', ['--public-key', path.join(other, 'vm-cache.pub')]);

      // No key: the unsigned path still works as before (nothing to refuse).
      const plain = await runCli(['sync', '--manifest', manifestUrl, '--root', root]);
      expectCode(plain, 0);
    } finally {
      server.child.kill('SIGINT');
      const stopped = await server.done;
      expect(stopped.code).toBe(0);
    }
  });
});

describe('manifest build and sign: inputs and refusals', () => {
  it('--no-chunk-index writes plain entries and no index files', async () => {
    const mirror = await tempRoot();
    await writeTarballs(mirror, [{ agent: 'alpha', version: '1.0.0', arch: 'x64', size: 1000 }]);
    const out = path.join(mirror, 'vm', 'manifest.json');
    expectCode(await runCli(['manifest', 'build', mirror, '--out', out, '--no-chunk-index']), 0);
    const m = JSON.parse(await readFile(out, 'utf8')) as Manifest;
    expect(m.agents.alpha!.tarballs.x64).not.toHaveProperty('chunkIndex');
    expect(await snapshot(mirror)).not.toHaveProperty('vm/images/alpha-1.0.0-x64.tar.gz.chunks.json');
  });

  it('--list and --image-prefix; two versions of one agent refused; an unsafe path refused', async () => {
    const dir = await tempRoot();
    const hashes = await writeTarballs(dir, [
      { agent: 'alpha', version: '1.0.0', arch: 'x64', size: 1000 },
      { agent: 'beta', version: '2.0', arch: 'arm64', size: 2000 },
    ]);
    const list = path.join(dir, 'list.txt');
    await writeFile(
      list,
      '# explicit list\n\nvm/images/alpha-1.0.0-x64.tar.gz\n./vm/images/beta-2.0-arm64.tar.gz beta 2.0-custom arm64\n',
    );
    const out = path.join(dir, 'out', 'manifest.json');
    const r = await runCli([
      'manifest',
      'build',
      dir,
      '--out',
      out,
      '--list',
      list,
      '--image-prefix',
      'registry.example/vm/',
      '--json',
    ]);
    expectCode(r, 0);
    expect(jsonLines(r.stdout)).toEqual([
      expect.objectContaining({ type: 'result', agents: 2, tarballs: 2, totalBytes: 3000 }),
    ]);
    const m = JSON.parse(await readFile(out, 'utf8')) as Manifest;
    expect(m.agents.alpha).toEqual({
      image: 'registry.example/vm/alpha',
      version: '1.0.0',
      tarballs: {
        x64: {
          key: 'vm/images/alpha-1.0.0-x64.tar.gz',
          sha256: hashes['vm/images/alpha-1.0.0-x64.tar.gz'],
          sizeBytes: 1000,
          chunkIndex: indexRef('vm/images/alpha-1.0.0-x64.tar.gz'),
        },
      },
    });
    expect(m.agents.beta!.version).toBe('2.0-custom');

    // Two versions of one agent in the folder: a manifest cannot list both.
    await writeTarballs(dir, [{ agent: 'alpha', version: '1.1.0', arch: 'x64', size: 10 }]);
    const two = await runCli(['manifest', 'build', dir, '--out', out]);
    expect(two.code).toBe(1);
    expect(two.stderr).toMatch(/two versions of alpha/);

    // A list entry outside the folder is refused by the engine's key rules, before anything is read.
    await writeFile(list, '../../etc/passwd alpha 1.0.0 x64\n');
    const unsafe = await runCli(['manifest', 'build', dir, '--out', out, '--list', list]);
    expect(unsafe.code).toBe(4);
    expect(unsafe.stderr).toMatch(/unsafe key/);

    // No vm/images, or nothing in it: nothing to build.
    const bare = await tempRoot();
    const missing = await runCli(['manifest', 'build', bare, '--out', out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /cannot read .*vm\/images.*DIR must hold vm\/images\/<agent>-<version>-<arch>\.tar\.gz/,
    );
    await writeTarballs(bare, []);
    const empty = await runCli(['manifest', 'build', bare, '--out', out]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/no tarballs found/);
    expect((await runCli(['manifest', 'build', dir])).code).toBe(2); // --out missing
  });

  it('sign refuses a public key, an invalid manifest, and needs --key', async () => {
    const dir = await tempRoot();
    expectCode(await runCli(['keygen', '--out', dir]), 0);
    const file = path.join(dir, 'manifest.json');
    await writeFile(file, `${JSON.stringify({ schemaVersion: 2, updatedAt: 'now', agents: {} }, null, 2)}\n`);
    const withPub = await runCli(['manifest', 'sign', file, '--key', path.join(dir, 'vm-cache.pub')]);
    expect(withPub.code).toBe(2);
    expect(withPub.stderr).toMatch(/not a private key/);
    expect((await runCli(['manifest', 'sign', file])).code).toBe(2);
    await writeFile(file, '{"schemaVersion": 1}');
    const invalid = await runCli(['manifest', 'sign', file, '--key', path.join(dir, 'vm-cache.key')]);
    expect(invalid.code).toBe(4);
    expect(invalid.stderr).toMatch(/schemaVersion/);
  });
});
