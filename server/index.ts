// The artifact server: a local CDN stand-in with deterministic content and
// injectable faults, used by tests, the demo app, the preview, the CLI and benchmarks.

export {
  artifactSeed,
  BLOCK_SIZE,
  contentPieces,
  contentSha256,
  contentSlice,
  createContentStream,
  generatedSha256,
} from './content.js';
export { DEMO_THROTTLE_BYTES_PER_SEC, demoArtifacts } from './demo.js';
export {
  buildManifest,
  GENERATED_UPDATED_AT,
  MANIFEST_KEY,
  serializeManifest,
  tarballKey,
} from './manifest.js';
export { startArtifactServer } from './server.js';
export type {
  Arch,
  ArtifactServer,
  ArtifactServerOptions,
  Fault,
  GeneratedArtifact,
  RequestRecord,
} from './types.js';
