// The panel's error states on the real engine, each reached the way a user
// meets it: a release too big for the disk (the engine's own free-space check
// refuses it, with the real figures, before a byte is written), a manifest
// signed with a key the app does not trust, and a server that cannot be
// reached. The `-cached` kinds sync the demo first, so the panel can say the
// app keeps working with the images it has.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import type { ArtifactServer } from '../server/index.js';
import { type ErrorFaultKind, manifestArchOf } from './faults.js';
import type { ManifestClock } from './manifest-clock.js';

/** The most one tarball may claim: the manifest's own limit (1 TiB). */
const MAX_TARBALL_BYTES = 2 ** 40;

/** The release the disk-full scenario publishes: named as a newer version of the first image. */
const TOO_BIG_VERSION = '2026.9.0';

export interface ErrorFaultsOptions {
  server: ArtifactServer;
  clock: ManifestClock;
  rawHostArch: string;
  /** The cache root: the disk whose free space the too-big release must exceed. */
  root: string;
  /** The key the preview's engine trusts; the server signs with it again when wrong-key is disarmed. */
  trustedKey: KeyObject;
}

type Agents = Record<
  string,
  {
    image?: string;
    version?: string;
    tarballs?: Record<string, { key: string; sha256: string; sizeBytes: number }>;
  }
>;

export class ErrorFaults {
  private undo: (() => void) | undefined;
  /** A key of no publisher the engine knows: made once, on first use. */
  private foreignKey: KeyObject | undefined;

  constructor(private readonly options: ErrorFaultsOptions) {}

  /** Arms `kind`; with a `-cached` kind, `syncFirst` (a whole sync of the demo) runs before it. */
  async arm(kind: ErrorFaultKind, syncFirst: () => Promise<unknown>): Promise<void> {
    this.disarm();
    if (kind === 'wrong-key-cached' || kind === 'offline-cached') await syncFirst();
    const { server, trustedKey } = this.options;
    switch (kind) {
      case 'disk-full':
        await this.publishTooBig();
        break;
      case 'wrong-key':
      case 'wrong-key-cached':
        this.foreignKey ??= generateKeyPairSync('ed25519').privateKey;
        server.setSigningKey(this.foreignKey);
        this.undo = () => server.setSigningKey(trustedKey);
        break;
      case 'offline':
      case 'offline-cached':
        server.setOffline(true);
        this.undo = () => server.setOffline(false);
        break;
    }
  }

  /** Back to the demo as it was: its manifest (dated later), signed with the trusted key, online. */
  disarm(): void {
    const undo = this.undo;
    this.undo = undefined;
    undo?.();
  }

  /**
   * The demo manifest with the first image of this host replaced by a
   * release bigger than the free space of the cache's disk (one more such
   * image per TiB free, for a very large disk).
   */
  private async publishTooBig(): Promise<void> {
    const { server, clock, rawHostArch, root } = this.options;
    const demo = server.manifest;
    const arch = manifestArchOf(rawHostArch);
    const agents: Agents = { ...((demo.agents ?? {}) as Agents) };
    const first = Object.entries(agents).find(([, entry]) => entry.tarballs?.[arch]);
    if (!first) throw new Error(`the demo manifest has no tarball for ${arch}`);
    const [agent, entry] = first;
    const images = Math.floor((await freeSpace(root)) / MAX_TARBALL_BYTES) + 1;
    for (let i = 0; i < images; i++) {
      const name = i === 0 ? agent : `${agent}-${i + 1}`;
      agents[name] = {
        image: entry.image ?? `ghcr.io/example/${agent}`,
        version: TOO_BIG_VERSION,
        tarballs: {
          [arch]: {
            key: `vm/images/${name}-${TOO_BIG_VERSION}-${arch}.tar.gz`,
            // Never fetched: the free-space check refuses the sync first.
            sha256: 'f'.repeat(64),
            sizeBytes: MAX_TARBALL_BYTES,
          },
        },
      };
    }
    server.setManifest({ ...demo, updatedAt: clock.next(), agents });
    this.undo = () => server.setManifest({ ...demo, updatedAt: clock.next() });
  }
}

/** Free bytes on the disk holding `dir` (or its nearest existing parent), as the engine measures them. */
async function freeSpace(dir: string): Promise<number> {
  let current = path.resolve(dir);
  for (;;) {
    try {
      const s = await statfs(current);
      return s.bavail * s.bsize;
    } catch (err) {
      const parent = path.dirname(current);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === current) return 0;
      current = parent;
    }
  }
}
