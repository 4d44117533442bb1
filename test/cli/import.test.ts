// `vm-cache import` from a folder and from a .tar (built with tar -cf), with
// and without a signature; corrupt and incomplete imports refused with the
// earlier cache byte-identical. Then status / verify / clear on the result.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempRoot } from '../helpers.js';
import {
  expectCode,
  flipByte,
  HOST_ARCH,
  jsonLines,
  runCli,
  snapshot,
  type TarballSpec,
  writeTarballs,
} from './helpers.js';

// Each test runs the real CLI as child processes, one after another, each about a second
// of CPU (tsx compiles the sources on the fly): one took 28 s of the old 30 s timeout on a
// loaded 2-core machine. The timeout is no speed check: it only has to end a hang.
vi.setConfig({ testTimeout: 120_000 });

const OTHER_ARCH = HOST_ARCH === 'x64' ? 'arm64' : 'x64';

// One signing key pair for the whole file, and mirrors built and signed in
// process with node:crypto: `keygen`, `manifest build` and `manifest sign` have
// their own tests (publish.test.ts), and an independent signer cross-checks them.
const signingKey = generateKeyPairSync('ed25519');
let PUB = '';
beforeAll(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vm-cache-keys-'));
  PUB = path.join(dir, 'signing.pub');
  await writeFile(PUB, signingKey.publicKey.export({ type: 'spki', format: 'pem' }));
});
afterAll(async () => {
  if (PUB) await rm(path.dirname(PUB), { recursive: true, force: true });
});

// Mirrors are releases in the order they are made (a later one is newer: an
// import never goes back to an older manifest), even when made side by side.
let releases = 0;

async function mirror(specs: TarballSpec[]): Promise<{ dir: string; hashes: Record<string, string> }> {
  const updatedAt = new Date(Date.UTC(2026, 5, 1) + ++releases * 60_000).toISOString();
  const dir = await tempRoot();
  const hashes = await writeTarballs(dir, specs);
  const agents: Record<string, { image: string; version: string; tarballs: Record<string, unknown> }> = {};
  for (const spec of specs) {
    const key = `vm/images/${spec.agent}-${spec.version}-${spec.arch}.tar.gz`;
    agents[spec.agent] ??= {
      image: `ghcr.io/${spec.agent}/${spec.agent}`,
      version: spec.version,
      tarballs: {},
    };
    agents[spec.agent]!.tarballs[spec.arch] = { key, sha256: hashes[key], sizeBytes: spec.size };
  }
  const bytes = Buffer.from(`${JSON.stringify({ schemaVersion: 2, updatedAt, agents }, null, 2)}\n`);
  await writeFile(path.join(dir, 'vm', 'manifest.json'), bytes);
  await writeFile(
    path.join(dir, 'vm', 'manifest.json.sig'),
    `${sign(null, bytes, signingKey.privateKey).toString('base64')}\n`,
  );
  return { dir, hashes };
}

const V1: TarballSpec[] = [
  { agent: 'openclaw', version: '2026.4.12', arch: 'x64', size: 100_000 },
  { agent: 'openclaw', version: '2026.4.12', arch: 'arm64', size: 80_000 },
  { agent: 'hermes', version: '0.9.1', arch: HOST_ARCH, size: 30_000 },
];
const V2: TarballSpec[] = [
  { agent: 'openclaw', version: '2026.5.1', arch: HOST_ARCH, size: 90_000 },
  { agent: 'hermes', version: '0.9.2', arch: HOST_ARCH, size: 40_000 },
];

const hostKeys = (hashes: Record<string, string>) =>
  Object.keys(hashes).filter((k) => k.endsWith(`-${HOST_ARCH}.tar.gz`));

describe('vm-cache import', () => {
  it('from a folder, with the signature checked: the host tarballs and the manifest land in the cache', async () => {
    const m = await mirror(V1);
    const root = await tempRoot();
    const r = await runCli(['import', m.dir, '--root', root, '--public-key', PUB, '--json']);
    expectCode(r, 0);
    const lines = jsonLines(r.stdout);
    expect(lines.filter((l) => l.type === 'artifact').map((l) => l.key)).toEqual(
      expect.arrayContaining(hostKeys(m.hashes)),
    );
    expect(lines.at(-1)).toMatchObject({
      type: 'result',
      imported: expect.arrayContaining(hostKeys(m.hashes)),
    });
    const cache = await snapshot(path.join(root, 'cache'));
    for (const key of hostKeys(m.hashes)) expect(cache[key]).toBe(m.hashes[key]);
    expect(cache[`vm/images/openclaw-2026.4.12-${OTHER_ARCH}.tar.gz`]).toBeUndefined();
    expect(Object.keys(cache).some((k) => k.endsWith('.partial'))).toBe(false);
    // The manifest is the mirror's document.
    expect(JSON.parse(await readFile(path.join(root, 'cache', 'vm', 'manifest.json'), 'utf8'))).toEqual(
      JSON.parse(await readFile(path.join(m.dir, 'vm', 'manifest.json'), 'utf8')),
    );

    // --all-arches takes the other arch too; what is already there is not copied again.
    const all = await runCli(['import', m.dir, '--root', root, '--all-arches', '--json']);
    expectCode(all, 0);
    expect(jsonLines(all.stdout).at(-1)).toMatchObject({
      type: 'result',
      imported: [`vm/images/openclaw-2026.4.12-${OTHER_ARCH}.tar.gz`],
      skipped: expect.arrayContaining(hostKeys(m.hashes)),
    });
  });

  it('from a .tar (at the top or inside a folder), then a newer tar replaces it; then status, verify, clear', async () => {
    const [m1, m2] = await Promise.all([mirror(V1), mirror(V2)]);
    const work = await tempRoot();
    const tar1 = path.join(work, 'v1.tar');
    execFileSync('tar', ['-cf', tar1, '-C', m1.dir, 'vm']);
    const root = await tempRoot();
    const r = await runCli(['import', tar1, '--root', root, '--public-key', PUB]);
    expectCode(r, 0);
    expect(r.stdout).toMatch(/sha256 verified [0-9a-f]{12}/);
    expect(r.stdout).toMatch(/Imported 2 tarballs into /);
    const cache = await snapshot(path.join(root, 'cache'));
    for (const key of hostKeys(m1.hashes)) expect(cache[key]).toBe(m1.hashes[key]);

    // A newer release, archived with its folder name and "./" prefixes (tar -cf x.tar -C parent ./name).
    const tar2 = path.join(work, 'v2.tar');
    execFileSync('tar', ['-cf', tar2, '-C', path.dirname(m2.dir), `./${path.basename(m2.dir)}`]);
    expectCode(await runCli(['import', tar2, '--root', root, '--public-key', PUB]), 0);
    const after = await snapshot(path.join(root, 'cache'));
    expect(Object.keys(after).sort()).toEqual([...hostKeys(m2.hashes), 'vm/manifest.json'].sort());
    for (const key of hostKeys(m2.hashes)) expect(after[key]).toBe(m2.hashes[key]);

    // status: the cached manifest summarised.
    const status = await runCli(['status', '--root', root, '--json']);
    expectCode(status, 0);
    const st = jsonLines(status.stdout)[0] as {
      root: string;
      cached: { artifacts: Array<{ key: string; present: boolean }> };
      sizeOnDiskBytes: number;
      lastSync: { downloaded: string[] };
    };
    expect(st.root).toBe(root);
    expect(st.cached.artifacts.map((a) => [a.key, a.present])).toEqual(
      expect.arrayContaining(hostKeys(m2.hashes).map((k) => [k, true])),
    );
    expect(st.sizeOnDiskBytes).toBeGreaterThan(130_000);
    expect(st.lastSync.downloaded.sort()).toEqual(hostKeys(m2.hashes).sort());
    const human = await runCli(['status', '--root', root]);
    expect(human.stdout).toMatch(/openclaw 2026\.5\.1/);
    expect(human.stdout).toMatch(/present/);

    // verify: ok, then a flipped byte is found, reported (exit 4) and removed.
    const ok = await runCli(['verify', '--root', root, '--json']);
    expectCode(ok, 0);
    expect(jsonLines(ok.stdout)[0]).toMatchObject({ ok: true, entries: expect.any(Array) });
    const victim = hostKeys(m2.hashes)[0]!;
    await flipByte(path.join(root, 'cache', victim), 5);
    const bad = await runCli(['verify', '--root', root, '--json']);
    expect(bad.code).toBe(4);
    expect(jsonLines(bad.stdout)[0]).toMatchObject({
      ok: false,
      entries: expect.arrayContaining([{ key: victim, state: 'corrupt' }]),
    });
    expect(existsSync(path.join(root, 'cache', victim))).toBe(false);

    // clear: everything goes; status then shows no cache, verify has nothing to check (exit 1).
    const cleared = await runCli(['clear', '--root', root, '--json']);
    expectCode(cleared, 0);
    expect(jsonLines(cleared.stdout)[0]).toMatchObject({ root, removedBytes: expect.any(Number) });
    expect(await snapshot(path.join(root, 'cache'))).toEqual({});
    const empty = await runCli(['status', '--root', root, '--json']);
    expect(jsonLines(empty.stdout)[0]).toMatchObject({ cached: null, lastSync: null });
    const nothing = await runCli(['verify', '--root', root]);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/no cache to verify/);
  });

  it('refuses a corrupt import (one flipped byte, folder or tar) with the earlier cache byte-identical', async () => {
    const [m1, m2] = await Promise.all([mirror(V1), mirror(V2)]);
    const root = await tempRoot();
    expectCode(await runCli(['import', m1.dir, '--root', root]), 0);
    const good = await snapshot(path.join(root, 'cache'));

    // The manifest (and its signature) are fine; one tarball was damaged on the way.
    const victim = hostKeys(m2.hashes).sort().at(-1)!;
    await flipByte(path.join(m2.dir, victim), 1000);
    const folder = await runCli(['import', m2.dir, '--root', root, '--public-key', PUB, '--json']);
    expect(folder.code).toBe(4);
    expect(folder.stderr).toMatch(/^vm-cache: sha256 mismatch for .* in the import/);
    expect(jsonLines(folder.stdout).at(-1)).toMatchObject({ type: 'error', code: 'ERR_SHA256_MISMATCH' });
    expect(await snapshot(path.join(root, 'cache'))).toEqual(good);

    const tar = path.join(await tempRoot(), 'v2.tar');
    execFileSync('tar', ['-cf', tar, '-C', m2.dir, 'vm']);
    const fromTar = await runCli(['import', tar, '--root', root]);
    expect(fromTar.code).toBe(4);
    expect(await snapshot(path.join(root, 'cache'))).toEqual(good);

    // A damaged tar header is refused as well.
    await flipByte(tar, 20);
    const broken = await runCli(['import', tar, '--root', root, '--json']);
    expect(broken.code).toBe(4);
    expect(jsonLines(broken.stdout).at(-1)).toMatchObject({ type: 'error', code: 'ERR_TAR_CORRUPT' });
    expect(await snapshot(path.join(root, 'cache'))).toEqual(good);
  });

  it('refuses a tampered manifest, a wrong key and an incomplete import, changing nothing', async () => {
    const [m1, m2] = await Promise.all([mirror(V1), mirror(V2)]);
    const root = await tempRoot();
    expectCode(await runCli(['import', m1.dir, '--root', root, '--public-key', PUB]), 0);
    const good = await snapshot(path.join(root, 'cache'));

    const manifestFile = path.join(m2.dir, 'vm', 'manifest.json');
    const signed = await readFile(manifestFile, 'utf8');
    await writeFile(manifestFile, signed.replace('0.9.2', '0.9.3'));
    const tampered = await runCli(['import', m2.dir, '--root', root, '--public-key', PUB]);
    expect(tampered.code).toBe(4);
    expect(tampered.stderr).toMatch(/^vm-cache: manifest signature check failed/);
    expect(await snapshot(path.join(root, 'cache'))).toEqual(good);
    await writeFile(manifestFile, signed);

    const otherPub = path.join(await tempRoot(), 'other.pub');
    await writeFile(
      otherPub,
      generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }),
    );
    const wrongKey = await runCli(['import', m2.dir, '--root', root, '--public-key', otherPub]);
    expect(wrongKey.code).toBe(4);
    expect(await snapshot(path.join(root, 'cache'))).toEqual(good);

    await rm(`${manifestFile}.sig`);
    const unsigned = await runCli(['import', m2.dir, '--root', root, '--public-key', PUB]);
    expect(unsigned.code).toBe(4);
    expect(unsigned.stderr).toMatch(/signature missing/);

    const lost = hostKeys(m2.hashes)[0]!;
    await rm(path.join(m2.dir, lost));
    // A manifest whose key climbs out of the cache is refused by the engine's key rules.
    const evil = await tempRoot();
    await writeTarballs(evil, []);
    await writeFile(path.join(evil, 'evil.bin'), 'x');
    await writeFile(
      path.join(evil, 'vm', 'manifest.json'),
      JSON.stringify({
        schemaVersion: 2,
        updatedAt: '2026-01-01T00:00:00.000Z',
        agents: {
          a: {
            version: '1',
            tarballs: { [HOST_ARCH]: { key: '../evil.bin', sha256: 'a'.repeat(64), sizeBytes: 1 } },
          },
        },
      }),
    );
    const notTar = path.join(m2.dir, 'notes.txt');
    await writeFile(notTar, 'hello, not an archive');
    // All refused before the cache's lock is even taken, so they can run side by side.
    const [incomplete, unsafe, nowhere, junk] = await Promise.all([
      runCli(['import', m2.dir, '--root', root, '--json']),
      runCli(['import', evil, '--root', root, '--json']),
      runCli(['import', path.join(m2.dir, 'nope'), '--root', root]),
      runCli(['import', notTar, '--root', root]),
    ]);
    expect(incomplete.code).toBe(1);
    expect(jsonLines(incomplete.stdout).at(-1)).toMatchObject({ type: 'error', code: 'ERR_IMPORT_SOURCE' });
    expect(incomplete.stderr).toContain(`${lost} is missing`);
    expect(unsafe.code).toBe(4);
    expect(jsonLines(unsafe.stdout).at(-1)).toMatchObject({ type: 'error', code: 'ERR_UNSAFE_KEY' });
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toMatch(/does not exist/);
    expect(junk.code).toBe(4);
    expect(junk.stderr).toMatch(/not a readable tar archive/);
    expect(await snapshot(path.join(root, 'cache'))).toEqual(good);
  });
});
