// The schema 2 manifest the server publishes for generated artifacts. Its bytes
// follow the same serialisation the engine writes to disk, so a test can compare
// the cached file with what was served byte for byte.

import type { GeneratedArtifact } from './types.js';

/** Fixed so generated manifests (and their ETags) are identical across runs. */
export const GENERATED_UPDATED_AT = '2026-04-24T00:00:00.000Z';

export const MANIFEST_KEY = 'vm/manifest.json';

export function tarballKey(a: Pick<GeneratedArtifact, 'agent' | 'version' | 'arch'>): string {
  return `vm/images/${a.agent}-${a.version}-${a.arch}.tar.gz`;
}

export interface HashedArtifact {
  artifact: GeneratedArtifact;
  sha256: string;
}

export function buildManifest(
  items: HashedArtifact[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const agents: Record<string, { image: string; version: string; tarballs: Record<string, unknown> }> = {};
  for (const { artifact: a, sha256 } of items) {
    let entry = agents[a.agent];
    // Two versions of one agent cannot both be listed; the later one replaces it.
    if (!entry || entry.version !== a.version) {
      entry = { image: `ghcr.io/example/${a.agent}`, version: a.version, tarballs: {} };
      agents[a.agent] = entry;
    }
    entry.tarballs[a.arch] = { key: tarballKey(a), sha256, sizeBytes: a.sizeBytes };
  }
  return { schemaVersion: 2, updatedAt: GENERATED_UPDATED_AT, agents, ...extra };
}

/** Objects are pretty-printed with a trailing newline; strings are served as given. */
export function serializeManifest(doc: unknown): Buffer {
  return Buffer.from(typeof doc === 'string' ? doc : `${JSON.stringify(doc, null, 2)}\n`, 'utf8');
}
