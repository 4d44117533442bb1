// Running the real `vm-cache` executable as a child process.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../cli/vm-cache.mjs', import.meta.url));
export const REPO = path.dirname(path.dirname(CLI));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The parent's environment without any VM_CACHE_* setting, so tests say everything explicitly. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('VM_CACHE_')) env[k] = v;
  return { ...env, ...extra };
}

export interface RunningCli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stdout satisfies `test` (checked on every chunk). */
  waitForStdout(test: (out: string) => boolean, timeoutMs?: number): Promise<void>;
  done: Promise<CliResult>;
}

export function startCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: cleanEnv(options.env),
    cwd: options.cwd ?? REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    out += c;
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    done,
    waitForStdout(test, timeoutMs = 15_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (test(out)) {
            cleanup();
            resolve();
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(`timed out waiting for output; stdout so far:\n${out.slice(-2000)}\nstderr:\n${err}`),
          );
        }, timeoutMs);
        const onClose = () => {
          cleanup();
          reject(
            new Error(
              `the CLI exited before the expected output; stdout:\n${out.slice(-2000)}\nstderr:\n${err}`,
            ),
          );
        };
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('close', onClose);
        };
        waiters.add(check);
        child.once('close', onClose);
        check();
      });
    },
  };
}

export function runCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Every stdout line parsed as JSON (throws on a line that is not JSON). */
export function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 of every file under `dir`, keyed by relative path: a cheap "byte-identical" snapshot. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const { readdir } = await import('node:fs/promises');
  const out: Record<string, string> = {};
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!e.isFile()) continue;
    const abs = path.join(e.parentPath, e.name);
    out[path.relative(dir, abs).split(path.sep).join('/')] = sha256(await readFile(abs));
  }
  return out;
}

/** The manifest arch of this machine (what a sync without --all-arches downloads). */
export const HOST_ARCH = process.arch === 'arm64' ? 'arm64' : 'x64';

export interface TarballSpec {
  agent: string;
  version: string;
  arch: 'arm64' | 'x64';
  size: number;
}

/** Writes `<dir>/vm/images/<agent>-<version>-<arch>.tar.gz` with random bytes; returns key -> sha256. */
export async function writeTarballs(dir: string, specs: TarballSpec[]): Promise<Record<string, string>> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { randomBytes } = await import('node:crypto');
  await mkdir(path.join(dir, 'vm', 'images'), { recursive: true });
  const out: Record<string, string> = {};
  for (const s of specs) {
    const key = `vm/images/${s.agent}-${s.version}-${s.arch}.tar.gz`;
    const bytes = randomBytes(s.size);
    await writeFile(path.join(dir, key), bytes);
    out[key] = sha256(bytes);
  }
  return out;
}

/** Flips one byte of a file in place (same size, different content). */
export async function flipByte(file: string, offset: number): Promise<void> {
  const { open } = await import('node:fs/promises');
  const handle = await open(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    await handle.read(b, 0, 1, offset);
    b[0] = b[0]! ^ 0xff;
    await handle.write(b, 0, 1, offset);
  } finally {
    await handle.close();
  }
}

/** Resolves the expectation `code`, with stderr in the failure message. */
export function expectCode(r: CliResult, code: number): void {
  if (r.code !== code) {
    throw new Error(
      `expected exit ${code}, got ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout.slice(-1500)}`,
    );
  }
}
