// A host app made the way a user makes one: `npm pack` of this repository
// (dist/ as `npm run build` left it; npm test builds first), a copy of
// examples/host-app in a temporary folder, and `npm install` of the tarball
// there. Nothing in the host reaches back into this repository.
import { type SpawnOptions, spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const FIXTURES = path.join(import.meta.dirname, 'fixtures');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * What a child does not inherit: our own settings, and what tells a child npm it
 * runs inside this repository's `npm test` (its prefix, lifecycle and package);
 * npm_config_* settings such as a registry mirror or a cache are kept.
 */
const INHERITED_NOT =
  /^(VM_CACHE_|ELECTRON_RENDERER_URL$|npm_config_local_prefix$|npm_lifecycle_|npm_package_|npm_command$)/;

/** Runs a command to its end (no shell); the environment is the parent's without VM_CACHE_* and npm_*. */
export function run(
  command: string,
  args: string[],
  options: SpawnOptions & { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!INHERITED_NOT.test(k)) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...options,
      env: { ...env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Fails with the command's output when it did not exit 0. */
export async function ok(result: Promise<RunResult>, what: string): Promise<RunResult> {
  const r = await result;
  if (r.code !== 0)
    throw new Error(`${what} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

export interface PackedFile {
  path: string;
  size: number;
}

export interface Packed {
  tarball: string;
  files: PackedFile[];
  size: number;
  unpackedSize: number;
}

/** `npm pack` of this repository as it is built now. */
export async function pack(into: string): Promise<Packed> {
  if (!existsSync(path.join(REPO, 'dist', 'main', 'engine', 'index.js')))
    throw new Error('dist/ is not built: run `npm run build` (npm test does it first)');
  // --ignore-scripts: prepack would build again; npm test has just built.
  const r = await ok(
    run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', into], { cwd: REPO }),
    'npm pack',
  );
  const [info] = JSON.parse(r.stdout) as Array<{
    filename: string;
    files: PackedFile[];
    size: number;
    unpackedSize: number;
  }>;
  return {
    tarball: path.join(into, info!.filename),
    files: info!.files,
    size: info!.size,
    unpackedSize: info!.unpackedSize,
  };
}

export interface Host {
  dir: string;
  packed: Packed;
  /** node_modules/electron-vm-cache in the host. */
  installed: string;
}

/** A copy of examples/host-app in `work` with the packed tarball installed, as a user would. */
export async function installHost(work: string): Promise<Host> {
  const packed = await pack(work);
  const dir = path.join(work, 'host-app');
  cpSync(path.join(REPO, 'examples', 'host-app'), dir, {
    recursive: true,
    filter: (src) => !/[/\\](node_modules|out)$/.test(src),
  });
  // The example's package.json names electron-vm-cache ^0.1.0; install the tarball in its place. Its
  // other packages come from the registry (npm's cache first): one retry for a network hiccup.
  const install = () =>
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', packed.tarball], {
      cwd: dir,
      timeoutMs: 300_000,
    });
  const first = await install();
  if (first.code !== 0) await ok(install(), 'npm install in the host (second try)');
  return { dir, packed, installed: path.join(dir, 'node_modules', 'electron-vm-cache') };
}

export function readJsonLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}
