// Shared test plumbing: temp roots, a counting fetchImpl around the real
// fetch, and the artifact server with small generated artifacts.
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
