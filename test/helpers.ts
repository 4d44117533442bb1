// Shared test plumbing: temp roots, a counting fetchImpl around the real
// fetch, the artifact server with small generated artifacts, child processes.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { type ArtifactServer, type ArtifactServerOptions, startArtifactServer } from '../server/index.js';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => {});
});

export async function tempRoot(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vm-cache-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function server(options: ArtifactServerOptions): Promise<ArtifactServer> {
  const s = await startArtifactServer(options);
  cleanups.push(() => s.close());
  return s;
}

/** Two agents, both arches, small sizes. */
export const SMALL = [
  { agent: 'openclaw', version: '2026.4.12', arch: 'x64', sizeBytes: 300_000 },
  { agent: 'openclaw', version: '2026.4.12', arch: 'arm64', sizeBytes: 200_000 },
] as const;

export function oneArtifactServer(sizeBytes = 300_000): Promise<ArtifactServer> {
  return server({ artifacts: [{ agent: 'openclaw', version: '2026.4.12', arch: 'x64', sizeBytes }] });
}

export interface CountingFetch {
  (url: string, init?: RequestInit): Promise<Response>;
  calls: Array<{ url: string; init: RequestInit | undefined; argType: string }>;
}

/** The real global fetch, recording every call and the type of its first argument. */
export function countingFetch(): CountingFetch {
  const calls: CountingFetch['calls'] = [];
  const f = ((url: string, init?: RequestInit) => {
    calls.push({ url, init, argType: typeof url });
    return fetch(url, init);
  }) as CountingFetch;
  f.calls = calls;
  return f;
}

export function keyOf(s: ArtifactServer, agent = 'openclaw', arch = 'x64'): string {
  const agents = s.manifest.agents as Record<string, { tarballs: Record<string, { key: string }> }>;
  return agents[agent]!.tarballs[arch]!.key;
}

export function entryOf(
  s: ArtifactServer,
  agent = 'openclaw',
  arch = 'x64',
): { key: string; sha256: string; sizeBytes: number } {
  const agents = s.manifest.agents as Record<
    string,
    { tarballs: Record<string, { key: string; sha256: string; sizeBytes: number }> }
  >;
  return agents[agent]!.tarballs[arch]!;
}

/** Every file under dir, relative, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
      .sort();
  } catch {
    return [];
  }
}

/** Runs a TypeScript file in a new Node process (through tsx) and collects its JSON lines. */
export function runTsChild(
  file: string,
  args: string[],
): {
  done: Promise<{ code: number | null; lines: Record<string, unknown>[]; stderr: string }>;
  kill: (sig?: NodeJS.Signals) => void;
  pid: number | undefined;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const done = new Promise<{ code: number | null; lines: Record<string, unknown>[]; stderr: string }>(
    (resolve) => {
      child.on('close', (code) =>
        resolve({
          code,
          stderr: err,
          lines: out
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l) as Record<string, unknown>),
        }),
      );
    },
  );
  return { done, kill: (sig = 'SIGKILL') => child.kill(sig), pid: child.pid };
}

/** A small tmpfs (root only) for disk-full tests; undefined when this machine cannot mount one. */
export async function smallDisk(sizeMiB: number): Promise<string | undefined> {
  const { execFileSync } = await import('node:child_process');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vm-cache-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    const why = `cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]}); run as root`;
    // CI runs as root on a machine that can: there, a skipped disk-full test would hide a regression.
    if (process.env.CI) throw new Error(why);
    console.warn(`disk-full test skipped: ${why}`);
    await rm(dir, { recursive: true, force: true });
    return undefined;
  }
  cleanups.push(async () => {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Reproducible bytes that look random (sha256 in counter mode): the same `seed` gives the same bytes. */
export function seededBytes(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0, off = 0; off < size; i++, off += 32) {
    createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  }
  return out;
}
