// The CLI's pure parts, in process: the tar reader (ustar, pax, GNU long
// names, base-256 sizes, damage), the exit-code table, the tarball name parser
// and the live display's rows.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { parseTarballName } from '../../cli/commands/manifest.js';
import { EXIT_CODE_BY_ERROR, exitCodeFor } from '../../cli/exit-codes.js';
import { renderRows } from '../../cli/live-view.js';
import { ERROR_CODES } from '../../contract/errors.js';
import type { SyncProgress } from '../../main/engine/index.js';
import { TarArchive } from '../../main/engine/tar.js';
import { tempRoot } from '../helpers.js';
import { CLI, flipByte, REPO } from './helpers.js';

const LONG = `vm/images/${'deeply-nested-folder/'.repeat(6)}agent-1.0.0-x64.tar.gz`;

async function tree(): Promise<string> {
  const dir = await tempRoot();
  await mkdir(path.join(dir, 'src', path.dirname(LONG)), { recursive: true });
  await writeFile(path.join(dir, 'src', 'vm', 'manifest.json'), '{"a":1}\n');
  await writeFile(path.join(dir, 'src', LONG), 'x'.repeat(1500));
  return dir;
}

describe('tar reader', () => {
  for (const format of ['gnu', 'pax', 'ustar'] as const) {
    it(`reads ${format} archives made by tar -cf${format === 'ustar' ? '' : ' (long names too)'}`, async () => {
      const dir = await tree();
      const file = path.join(dir, `${format}.tar`);
      // ustar cannot hold a 170-character name without a prefix split; it can, up to 255.
      execFileSync('tar', [`--format=${format}`, '-cf', file, '-C', path.join(dir, 'src'), '.']);
      const tar = await TarArchive.open(file);
      const manifest = tar.get('vm/manifest.json')!;
      expect((await tar.readSmall(manifest, 100)).toString()).toBe('{"a":1}\n');
      const big = tar.get(LONG)!;
      expect(big.size).toBe(1500);
      expect(await text(tar.stream(big))).toBe('x'.repeat(1500));
      expect(tar.entries.get('vm')?.type).toBe('directory');
      expect(tar.get('vm/images')).toBeUndefined(); // a folder is not a file
    });
  }

  it('reads a GNU base-256 size field (used for entries of 8 GiB and more)', async () => {
    const dir = await tempRoot();
    const header = Buffer.alloc(512);
    header.write('big.bin', 0);
    header.write('0000644\0', 100);
    header[124] = 0x80; // base-256 marker; the rest is the size, big-endian
    header.writeUInt32BE(700, 132);
    header[156] = '0'.charCodeAt(0);
    header.write('ustar  \0', 257, 'latin1');
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const data = Buffer.alloc(1024, 7);
    const file = path.join(dir, 'b256.tar');
    await writeFile(file, Buffer.concat([header, data, Buffer.alloc(1024)]));
    const tar = await TarArchive.open(file);
    expect(tar.get('big.bin')?.size).toBe(700);
  });

  it('refuses a damaged header, a truncated archive and a file that is no tar at all', async () => {
    const dir = await tree();
    const file = path.join(dir, 'a.tar');
    execFileSync('tar', ['-cf', file, '-C', path.join(dir, 'src'), 'vm']);
    const damaged = path.join(dir, 'damaged.tar');
    await writeFile(damaged, await readFile(file));
    await flipByte(damaged, 3);
    await expect(TarArchive.open(damaged)).rejects.toMatchObject({ code: 'ERR_TAR_CORRUPT' });
    const bytes = await readFile(file);
    const cut = path.join(dir, 'cut.tar');
    // Cut inside the last file's data: its header promises more bytes than remain.
    const at = bytes.indexOf('xxxxxxxxxx');
    await writeFile(cut, bytes.subarray(0, at + 100));
    await expect(TarArchive.open(cut)).rejects.toThrow(/runs past the end/);
    const junk = path.join(dir, 'junk.tar');
    await writeFile(junk, 'hello world, definitely not a tar archive'.repeat(20));
    await expect(TarArchive.open(junk)).rejects.toMatchObject({ code: 'ERR_TAR_CORRUPT' });
  });
});

describe('the executable', () => {
  const version = async () =>
    (JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

  it('package.json bin names the built dist/cli/bin.js, which runs directly on plain Node', async () => {
    const pkg = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(pkg.bin['vm-cache']).toBe('dist/cli/bin.js');
    const bin = path.join(REPO, pkg.bin['vm-cache']!);
    expect((await readFile(bin, 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect((await stat(bin)).mode & 0o111).not.toBe(0);
    expect(execFileSync(bin, ['--version'], { cwd: os.tmpdir(), encoding: 'utf8' }).trim()).toBe(
      await version(),
    );
  });

  it('the dev launcher cli/vm-cache.mjs runs the sources directly, from any folder', async () => {
    expect((await readFile(CLI, 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect((await stat(CLI)).mode & 0o111).not.toBe(0);
    // Run from another folder: the launcher finds its own tsconfig and modules.
    expect(execFileSync(CLI, ['--version'], { cwd: os.tmpdir(), encoding: 'utf8' }).trim()).toBe(
      await version(),
    );
  });
});

describe('exit codes', () => {
  it('every engine error code has an exit code; the documented groups hold', () => {
    for (const code of ERROR_CODES) expect(EXIT_CODE_BY_ERROR[code]).toBeTypeOf('number');
    expect(
      ['ERR_MANIFEST_FETCH', 'ERR_NETWORK', 'ERR_TIMEOUT', 'ERR_STALLED', 'ERR_DOWNLOAD_HTTP'].map(
        exitCodeFor,
      ),
    ).toEqual([3, 3, 3, 3, 3]);
    expect(
      ['ERR_SHA256_MISMATCH', 'ERR_SIGNATURE', 'ERR_MANIFEST_INVALID', 'ERR_UNSAFE_KEY'].map(exitCodeFor),
    ).toEqual([4, 4, 4, 4]);
    expect(exitCodeFor('ERR_DISK_FULL')).toBe(5);
    expect(exitCodeFor('ERR_ABORTED')).toBe(130);
    expect(exitCodeFor('ERR_USAGE')).toBe(2);
    expect(exitCodeFor('ERR_IO')).toBe(1);
    expect(exitCodeFor('something new')).toBe(1);
    expect(exitCodeFor('toString')).toBe(1);
  });
});

describe('tarball names', () => {
  it('splits <agent>-<version>-<arch>.tar.gz', () => {
    expect(parseTarballName('openclaw-2026.4.12-arm64.tar.gz')).toEqual({
      agent: 'openclaw',
      version: '2026.4.12',
      arch: 'arm64',
    });
    expect(parseTarballName('claude-code-1.2.3-rc.1-x64.tar.gz')).toEqual({
      agent: 'claude-code',
      version: '1.2.3-rc.1',
      arch: 'x64',
    });
    expect(parseTarballName('tool-v2-x64.tar.gz')).toEqual({ agent: 'tool', version: 'v2', arch: 'x64' });
    expect(parseTarballName('agent-latest-x64.tar.gz')).toEqual({
      agent: 'agent',
      version: 'latest',
      arch: 'x64',
    });
    expect(parseTarballName('agent-1.0-amd64.tar.gz')).toBeUndefined();
    expect(parseTarballName('agent-x64.tar.gz')).toBeUndefined();
  });
});

describe('live display rows', () => {
  const progress = (over: Partial<SyncProgress> = {}): SyncProgress => ({
    root: '/r',
    phase: 'downloading',
    artifacts: [
      {
        key: 'vm/images/a-1-x64.tar.gz',
        agent: 'openclaw',
        version: '2026.4.12',
        arch: 'x64',
        sha256: 'ab'.repeat(32),
        sizeBytes: 3 * 1024 * 1024,
        receivedBytes: 1024 * 1024,
        state: 'downloading',
        attempt: 1,
      },
      {
        key: 'vm/images/b-1-x64.tar.gz',
        agent: 'hermes',
        version: '0.9',
        arch: 'x64',
        sha256: 'cd'.repeat(32),
        sizeBytes: 1024,
        receivedBytes: 1024,
        state: 'verified',
        attempt: 1,
      },
    ],
    receivedBytes: 1024 * 1024 + 1024,
    totalBytes: 3 * 1024 * 1024 + 1024,
    bytesPerSecond: 2 * 1024 * 1024,
    etaSeconds: 75,
    attempt: 1,
    startedAt: 0,
    at: 1000,
    ...over,
  });

  it('shows each artifact, the sha256 step, the total with speed and time left, within the width', () => {
    for (const columns of [64, 80, 120]) {
      const rows = renderRows(progress(), columns);
      expect(rows.every((r) => r.length <= columns - 1)).toBe(true);
      const all = rows.join('\n');
      expect(all).toContain('openclaw 2026.4.12 x64');
      expect(all).toContain(`sha256 verified ${'cd'.repeat(6)}`);
      expect(all).toMatch(/total .*2\.10 MB\/s {2}1:15 left/);
      expect(all).toMatch(/\[#+-+\]/);
    }
    // Narrower still: rows are cut to the width, never wrapped (a wrap would break the redraw).
    expect(renderRows(progress(), 40).every((r) => r.length <= 39)).toBe(true);
    expect(renderRows(progress({ phase: 'verifying' }), 80)[0]).toBe('vm-cache sync: verifying sha256');
    const verifying = progress();
    verifying.artifacts[0]!.state = 'verifying';
    expect(renderRows(verifying, 100).join('\n')).toContain('verifying sha256…');
    // A stall says so instead of a time left.
    const stalled = progress({ etaSeconds: null, bytesPerSecond: 0 });
    stalled.artifacts[0]!.state = 'stalled';
    expect(renderRows(stalled, 100).join('\n')).toMatch(/total .*stalled, retrying/);
    // A delta update says what it reuses under its row.
    const delta = progress();
    delta.artifacts[0]!.delta = { reuseBytes: 2_700_000, fetchBytes: 445_728, reusedBytes: 1_000_000 };
    expect(renderRows(delta, 100)).toContain(
      '    reused 2.70 MB from the cached version, downloading 446 kB',
    );
  });
});
