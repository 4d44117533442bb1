// The artifact set the demo app and the browser preview serve: large enough that
// progress, speed and ETA are visible for a while, small enough to generate and
// hash at startup in well under a second.

import type { GeneratedArtifact } from './types.js';

const MB = 1000 * 1000;

/** Per-response cap for the demo: a ~100 MB tarball takes a few seconds to arrive. */
export const DEMO_THROTTLE_BYTES_PER_SEC = 25 * MB;

export function demoArtifacts(): GeneratedArtifact[] {
  return [
    { agent: 'openclaw', version: '2026.4.12', arch: 'arm64', sizeBytes: 118 * MB + 421_337 },
    { agent: 'openclaw', version: '2026.4.12', arch: 'x64', sizeBytes: 112 * MB + 73_219 },
    { agent: 'hermes', version: '1.8.0', arch: 'arm64', sizeBytes: 46 * MB + 902_113 },
    { agent: 'hermes', version: '1.8.0', arch: 'x64', sizeBytes: 41 * MB + 55_871 },
  ];
}
