// Every document of the bad-manifest corpus gets its clear error, before any
// tarball request, and an existing cache stays exactly as it was.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureVmCacheSynced } from '../../main/engine/index.js';
import { BAD_MANIFESTS } from '../fixtures/bad-manifests.js';
import { listFiles, oneArtifactServer, tempRoot } from '../helpers.js';

describe('bad manifest corpus', () => {
  it('has at least 30 documents', () => {
    expect(BAD_MANIFESTS.length).toBeGreaterThanOrEqual(30);
  });

  let good: Record<string, unknown>;
  beforeAll(async () => {
    const s = await oneArtifactServer(1000);
    good = structuredClone(s.manifest);
  });

  for (const bad of BAD_MANIFESTS) {
    it(`${bad.name}: ${bad.code}, cache untouched`, async () => {
      const s = await oneArtifactServer(50_000);
      const root = await tempRoot();
      await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' });
      const files = await listFiles(root);
      const snapshot = await Promise.all(
        files.map(
          async (f) =>
            [f, await readFile(path.join(root, f)), (await stat(path.join(root, f))).mtimeMs] as const,
        ),
      );
      const requestsBefore = s.requests.length;

      s.setManifest(bad.make({ ...good, agents: s.manifest.agents }));
      const err = await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' }).catch(
        (e) => e,
      );
      expect(err, 'the sync must fail').toBeInstanceOf(Error);
      expect(err.code).toBe(bad.code);
      expect(err.message).toContain(bad.says);
      if (bad.code === 'ERR_MANIFEST_INVALID') expect(err.message).toContain(s.manifestUrl);
      expect(s.requests.slice(requestsBefore).map((r) => r.path)).toEqual(['vm/manifest.json']);
      expect(await listFiles(root)).toEqual(files);
      for (const [f, bytes, mtime] of snapshot) {
        expect(await readFile(path.join(root, f))).toEqual(bytes);
        expect((await stat(path.join(root, f))).mtimeMs).toBe(mtime);
      }
      expect(Object.prototype).not.toHaveProperty('sha256');
    });
  }
});
