// npm run bench:package: what a host pays for the package. The tarball as
// `npm pack` makes it (size, files), and the install footprint of an
// engine-only host: a new folder, `npm install` of the tarball and nothing
// else (electron is an optional peer, so it is not installed), counted as
// packages and bytes on disk under node_modules.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBuilt } from './startup.js';

const REPO = path.resolve(import.meta.dirname, '..');

function npm(args: string[], cwd: string): string {
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

/** Bytes of every file under dir (apparent size), and the package folders (those with a package.json). */
function walk(dir: string): { bytes: number; packages: string[] } {
  let bytes = 0;
  const packages: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    if (!entry.isFile()) continue;
    bytes += statSync(full).size;
    const rel = path.relative(dir, entry.parentPath);
    // node_modules/<name>/package.json or node_modules/@scope/<name>/package.json (nested ones too).
    if (entry.name === 'package.json' && /(^|node_modules\/)(@[^/]+\/)?[^/@]+$/.test(rel)) packages.push(rel);
  }
  return { bytes, packages };
}

ensureBuilt(console.error);
const work = mkdtempSync(path.join(os.tmpdir(), 'vm-cache-footprint-'));
try {
  const [packed] = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], REPO));
  const host = path.join(work, 'host');
  mkdirSync(host);
  npm(['init', '-y'], host);
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(work, packed.filename)], host);
  const { bytes, packages } = walk(path.join(host, 'node_modules'));
  const MB = 1e6;
  const names = packages.map((p) => p.replace(/^.*node_modules\//, '')).sort();
  console.log(
    [
      '| Package figure | Value |',
      '|---|---:|',
      `| Tarball (npm pack) | ${(packed.size / 1000).toFixed(1)} kB, ${packed.entryCount} files |`,
      `| Unpacked | ${(packed.unpackedSize / MB).toFixed(2)} MB |`,
      `| Engine-only host: packages installed | ${packages.length} |`,
      `| Engine-only host: node_modules on disk | ${(bytes / MB).toFixed(1)} MB |`,
      '',
      `Packages: ${names.join(', ')}`,
    ].join('\n'),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
