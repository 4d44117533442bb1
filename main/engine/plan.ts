// Decides, per artifact, what the disk already holds. The warm path is one
// stat per tarball: no re-hashing of a multi-GB file when the cached manifest
// already vouches for it.
import { statOrUndefined } from './atomic.js';
import { fsError } from './errors.js';
import { resolveKeyPath } from './keys.js';
import { vouchesFor } from './local-state.js';
import type { SelectedArtifact, VmManifest } from './manifest.js';

export type ArtifactAction =
  /** The cached manifest's own entry (same key, arch, sha256, size) vouches and the size matches: trusted as is. */
  | 'cached'
  /** A file of the right size is there but nothing vouches for it: hash it once. */
  | 'hash'
  | 'download';

export interface ArtifactPlan {
  artifact: SelectedArtifact;
  path: string;
  action: ArtifactAction;
}

export async function planArtifacts(
  cacheDir: string,
  artifacts: SelectedArtifact[],
  cached: VmManifest | undefined,
  vouched: Set<string> | '*',
): Promise<ArtifactPlan[]> {
  return Promise.all(
    artifacts.map(async (artifact) => {
      const file = resolveKeyPath(cacheDir, artifact.key);
      let st: Awaited<ReturnType<typeof statOrUndefined>>;
      try {
        st = await statOrUndefined(file);
      } catch (err) {
        throw fsError(`cannot read ${file}`, cacheDir, err);
      }
      if (!st?.isFile() || st.size !== artifact.sizeBytes)
        return { artifact, path: file, action: 'download' as const };
      if (vouchesFor(cached, vouched, artifact)) return { artifact, path: file, action: 'cached' as const };
      return { artifact, path: file, action: 'hash' as const };
    }),
  );
}
