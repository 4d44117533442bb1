// An artifact server publishing successive versions of one agent, one manifest
// per version: scenarios that repeat rounds move to a new version when a round
// has nothing left to do, so every round has real bytes to move.
import {
  type Arch,
  type ArtifactServer,
  type ArtifactServerOptions,
  buildManifest,
  generatedSha256,
  serializeManifest,
  tarballKey,
} from '../../../server/index.js';
import { server } from '../../helpers.js';
import type { CacheExpectation, KnownTarball } from './invariants.js';

export interface Published {
  version: string;
  /** Tarball key by arch. */
  keys: Record<string, string>;
  doc: Record<string, unknown>;
  /** The exact bytes /vm/manifest.json serves for this version. */
  text: string;
}

export interface VersionedServer {
  s: ArtifactServer;
  versions: Published[];
  /** Makes /vm/manifest.json publish version i. */
  publish(i: number): Published;
  /** What inspectCache needs: every tarball and manifest of every version. */
  expectation(arch: string): CacheExpectation;
}

export async function versionedServer(options: {
  count: number;
  sizeBytes: number;
  agent?: string;
  arches?: Arch[];
  throttleBytesPerSec?: number;
}): Promise<VersionedServer> {
  const agent = options.agent ?? 'openclaw';
  const arches = options.arches ?? ['x64'];
  const artifacts = Array.from({ length: options.count }, (_, i) =>
    arches.map((arch) => ({ agent, version: `2026.5.${i + 1}`, arch, sizeBytes: options.sizeBytes })),
  );
  const serverOptions: ArtifactServerOptions = { artifacts: artifacts.flat() };
  if (options.throttleBytesPerSec !== undefined)
    serverOptions.throttleBytesPerSec = options.throttleBytesPerSec;
  const s = await server(serverOptions);
  const known = new Map<string, KnownTarball>();
  const versions: Published[] = [];
  for (const group of artifacts) {
    const hashed = [];
    const keys: Record<string, string> = {};
    for (const artifact of group) {
      // Cached by the server's own start-up hashing: no second pass over the bytes.
      const sha256 = await generatedSha256(artifact);
      hashed.push({ artifact, sha256 });
      keys[artifact.arch] = tarballKey(artifact);
      known.set(tarballKey(artifact), { sha256, sizeBytes: artifact.sizeBytes });
    }
    const doc = buildManifest(hashed);
    versions.push({ version: group[0]!.version, keys, doc, text: serializeManifest(doc).toString('utf8') });
  }
  const manifests = new Set(versions.map((v) => v.text));
  return {
    s,
    versions,
    publish(i) {
      const v = versions[i]!;
      s.setManifest(v.doc);
      return v;
    },
    expectation: (arch) => ({ known, manifests, arch }),
  };
}
