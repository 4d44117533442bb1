// The demo server's misbehaviours, and the delta update, by name, so every
// state of the panel can be seen by hand (`--fault KIND` or `?fault=KIND`) and
// driven by the e2e tests.
import type { ArtifactServer } from '../server/index.js';

/** Faults armed on the demo server alone (armFault), at once. */
export const SERVER_FAULT_KINDS = ['fail-once', 'corrupt', 'stall'] as const;
export type ServerFaultKind = (typeof SERVER_FAULT_KINDS)[number];

/** The panel's error states (error-faults.ts); a `-cached` kind syncs the demo first. */
export const ERROR_FAULT_KINDS = [
  'disk-full',
  'wrong-key',
  'wrong-key-cached',
  'offline',
  'offline-cached',
] as const;
export type ErrorFaultKind = (typeof ERROR_FAULT_KINDS)[number];

/** Every scenario: the server faults, `delta`, which needs the engine too (delta.ts), and the error states. */
export const FAULT_KINDS = [...SERVER_FAULT_KINDS, 'delta', ...ERROR_FAULT_KINDS] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export function isFaultKind(value: unknown): value is FaultKind {
  return typeof value === 'string' && (FAULT_KINDS as readonly string[]).includes(value);
}

export const FAULT_HELP: Record<FaultKind, string> = {
  'fail-once': 'the next sync fails with HTTP 503 (after its retries); Retry succeeds',
  corrupt: 'one byte of a tarball is flipped once: sha256 mismatch; Retry downloads it again',
  stall: 'a tarball stops sending at 40 % once: "stalled", then the engine resumes it',
  delta: "v1 cached, v2 offered with a chunk index: v1's chunks reused, the changed ranges sent slowly",
  'disk-full':
    'a new release bigger than the free space of the cache disk: ERR_DISK_FULL before any byte, with the figures',
  'wrong-key': 'the manifest is signed with a key the engine does not trust: ERR_SIGNATURE, nothing changed',
  'wrong-key-cached': 'the demo is synced first, then wrong-key: the panel keeps the cached images in use',
  offline: 'the server drops every connection: could not reach it (ERR_MANIFEST_FETCH), nothing cached',
  'offline-cached': 'the demo is synced first, then offline: the app keeps working with the cached images',
};

export function isErrorFaultKind(value: unknown): value is ErrorFaultKind {
  return typeof value === 'string' && (ERROR_FAULT_KINDS as readonly string[]).includes(value);
}

/** The manifest arch this host downloads (the engine's rule: ia32 uses x64). */
export function manifestArchOf(rawArch: string): string {
  return rawArch === 'arm64' ? 'arm64' : 'x64';
}

/** The tarballs this host downloads from the demo server, in manifest order. */
export function hostTarballs(
  server: ArtifactServer,
  rawArch: string,
): Array<{ key: string; sizeBytes: number }> {
  const arch = manifestArchOf(rawArch);
  const agents = (server.manifest.agents ?? {}) as Record<
    string,
    { tarballs?: Record<string, { key: string; sizeBytes: number }> }
  >;
  const out: Array<{ key: string; sizeBytes: number }> = [];
  for (const entry of Object.values(agents)) {
    const t = entry.tarballs?.[arch];
    if (t) out.push({ key: t.key, sizeBytes: t.sizeBytes });
  }
  return out;
}

/**
 * Arms `kind` on the first tarball this host downloads. `retries` is the
 * engine's retry budget: a 503 that is to fail the sync must outlast it, and
 * `Retry-After: 0` keeps those retries instant so the failure shows at once.
 */
export function armFault(
  server: ArtifactServer,
  kind: ServerFaultKind,
  rawArch: string,
  retries: number,
): string {
  const target = hostTarballs(server, rawArch)[0];
  if (!target) throw new Error(`the demo manifest has no tarball for ${manifestArchOf(rawArch)}`);
  switch (kind) {
    case 'fail-once':
      server.setFault(target.key, { status: 503, retryAfter: '0', times: retries + 1 });
      break;
    case 'corrupt':
      server.setFault(target.key, { corruptByteAt: Math.floor(target.sizeBytes / 2), times: 1 });
      break;
    case 'stall':
      server.setFault(target.key, { stallAtByte: Math.floor(target.sizeBytes * 0.4), times: 1 });
      break;
  }
  return target.key;
}
