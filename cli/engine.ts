// The engine pieces the CLI needs beyond main/engine/index.ts. The public
// index does not export these (yet); importing them here, in one place, keeps
// the CLI on the engine's own code (no second implementation) and makes the
// switch to the public index a one-file change once it exports them.

export { statOrUndefined, writeFileAtomic } from '../main/engine/atomic.js';
export { installStaged } from '../main/engine/commit.js';
export { assertDiskSpace } from '../main/engine/diskspace.js';
export { resolveKeyPath } from '../main/engine/keys.js';
export { lockRoot, readCachedManifestFile, vouchedArches } from '../main/engine/local-state.js';
export { prepareToInstall } from '../main/engine/make-way.js';
export { claimCacheDir } from '../main/engine/ownership.js';
export { PartialWriter } from '../main/engine/partial-writer.js';
export { cacheDir, partialMetaPath, partialPath } from '../main/engine/paths.js';
export { planArtifacts } from '../main/engine/plan.js';
export { parsePublicKey, verifyManifestSignature } from '../main/engine/signature.js';
export { assertNotExpired, assertNotOlderThanCached } from '../main/engine/trust.js';
