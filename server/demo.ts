// The artifact set the demo app and the browser preview serve: large enough that
// progress, speed and ETA are visible for a while, small enough to generate and
// hash at startup in well under a second.

import type { GeneratedArtifact } from './types.js';

const MB = 1000 * 1000;

/** Per-response cap for the demo: a ~100 MB tarball takes a few seconds to arrive. */
export const DEMO_THROTTLE_BYTES_PER_SEC = 25 * MB;

/**
 * Two agents, both arches. `small` gives a few MB each (the whole flow in a
 * couple of seconds, for tests and `preview --small`) instead of ~40-120 MB.
 */
export function demoArtifacts(options: { small?: boolean } = {}): GeneratedArtifact[] {
  const mb = (big: number, small: number) => (options.small ? small : big) * MB;
  return [
    { agent: 'openclaw', version: '2026.4.12', arch: 'arm64', sizeBytes: mb(118, 6) + 421_337 },
    { agent: 'openclaw', version: '2026.4.12', arch: 'x64', sizeBytes: mb(112, 6) + 73_219 },
    { agent: 'hermes', version: '1.8.0', arch: 'arm64', sizeBytes: mb(46, 3) + 902_113 },
    { agent: 'hermes', version: '1.8.0', arch: 'x64', sizeBytes: mb(41, 3) + 55_871 },
  ];
}
