// startArtifactServer: wires content, manifest, faults and the request log to a
// node:http server on 127.0.0.1, and makes close() prompt even with stalled or
// keep-alive connections (a test suite must never hang on its fixture server).

import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { artifactSeed, contentSha256, contentSlice } from './content.js';
import { FaultTable } from './faults.js';
import { createHandler } from './handler.js';
import { normalizeKey, resolveInDir } from './keys.js';
import {
  buildManifest,
  GENERATED_UPDATED_AT,
  type HashedArtifact,
  MANIFEST_KEY,
  serializeManifest,
  tarballKey,
} from './manifest.js';
import { bufferResource, fileResource, generatedResource, type Resource } from './resources.js';
import { Traffic } from './traffic.js';
import type { ArtifactServer, ArtifactServerOptions } from './types.js';

/** Where the signature of the published manifest is served, beside it (the engine asks `<manifest URL>.sig`). */
const SIGNATURE_KEY = `${MANIFEST_KEY}.sig`;

interface GeneratedEntry {
  seed: string;
  size: number;
  resource: Resource;
}

export async function startArtifactServer(options: ArtifactServerOptions = {}): Promise<ArtifactServer> {
  const modified = new Date(GENERATED_UPDATED_AT);
  const generated = new Map<string, GeneratedEntry>();
  const hashed: HashedArtifact[] = [];
  // One at a time: hashing is CPU-bound, running them together only interleaves.
  for (const artifact of options.artifacts ?? []) {
    if (!Number.isSafeInteger(artifact.sizeBytes) || artifact.sizeBytes < 0) {
      throw new RangeError(`invalid sizeBytes for ${artifact.agent}: ${artifact.sizeBytes}`);
    }
    const seed = artifactSeed(artifact);
    const sha256 = await contentSha256(seed, artifact.sizeBytes);
    const key = tarballKey(artifact);
    hashed.push({ artifact, sha256 });
    generated.set(key, {
      seed,
      size: artifact.sizeBytes,
      resource: generatedResource(seed, artifact.sizeBytes, sha256, key, modified),
    });
  }

  const dir = options.dir;
  if (dir !== undefined && !(await stat(dir)).isDirectory()) {
    throw new Error(`artifact server: not a directory: ${dir}`);
  }

  // What /vm/manifest.json serves when it does not come from the folder as is.
  let manifestDoc: Record<string, unknown> = {};
  let manifestResource: Resource | undefined;
  let manifestBody: Buffer | undefined;
  let manifestGeneration = 0;
  // The signature of what the server publishes, when it signs (options.signingKey, setSigningKey).
  let signingKey: KeyObject | undefined;
  let signatureResource: Resource | undefined;
  const signManifest = (): void => {
    signatureResource =
      signingKey && manifestBody && manifestResource
        ? bufferResource(
            Buffer.from(`${sign(null, manifestBody, signingKey).toString('base64')}\n`),
            SIGNATURE_KEY,
            new Date(manifestResource.lastModified),
          )
        : undefined;
  };
  const serveManifest = (body: Buffer): void => {
    // A replaced manifest is a new upload: move Last-Modified along with the ETag.
    manifestResource = bufferResource(
      body,
      MANIFEST_KEY,
      new Date(modified.getTime() + manifestGeneration * 1000),
    );
    manifestBody = body;
    manifestGeneration += 1;
    signManifest();
  };
  const setSigningKey = (key: KeyObject | string | undefined): void => {
    signingKey = typeof key === 'string' ? createPrivateKey(key) : key;
    signManifest();
  };
  if (options.signingKey !== undefined) setSigningKey(options.signingKey);
  if (options.artifacts !== undefined) {
    manifestDoc = buildManifest(hashed, options.manifestExtra);
    serveManifest(serializeManifest(manifestDoc));
  } else if (dir !== undefined) {
    manifestDoc = (await readJsonObject(join(dir, MANIFEST_KEY))) ?? {};
  }

  const lookup = async (key: string): Promise<Resource | undefined> => {
    if (key === MANIFEST_KEY && manifestResource) return manifestResource;
    if (key === SIGNATURE_KEY && signatureResource) return signatureResource;
    const entry = generated.get(key);
    if (entry) return entry.resource;
    if (dir !== undefined) {
      const file = await resolveInDir(dir, key);
      if (file) return fileResource(file, key);
    }
    return undefined;
  };

  const traffic = new Traffic();
  const faults = new FaultTable();
  const context: Parameters<typeof createHandler>[0] = { traffic, faults, lookup };
  if (options.throttleBytesPerSec !== undefined) context.throttleBytesPerSec = options.throttleBytesPerSec;
  const server = createServer(createHandler(context));

  // http's closeAllConnections() covers HTTP connections; tracking sockets as well
  // covers anything it does not (e.g. a connection still mid-handshake).
  const sockets = new Set<Socket>();
  let offline = false;
  server.on('connection', (socket) => {
    // Offline (setOffline): the connection is dropped before a byte is read.
    if (offline) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('artifact server: no TCP address');
  const url = `http://127.0.0.1:${address.port}`;

  let closing: Promise<void> | undefined;

  return {
    url,
    manifestUrl: `${url}/${MANIFEST_KEY}`,
    get manifest() {
      return manifestDoc;
    },
    requests: traffic.requests,
    bytesServed: (path) => traffic.bytesServed(path),
    setFault: (path, fault) => faults.set(path, fault),
    setManifest(doc) {
      serveManifest(serializeManifest(doc));
      const parsed = typeof doc === 'string' ? tryParse(doc) : doc;
      if (isObject(parsed)) manifestDoc = parsed;
    },
    setSigningKey,
    setOffline(value) {
      offline = value;
      if (offline) for (const socket of sockets) socket.destroy();
    },
    contentOf(key) {
      const k = normalizeKey(key);
      const entry = generated.get(k);
      if (entry) return contentSlice(entry.seed, 0, entry.size);
      if (k === MANIFEST_KEY && manifestResource) {
        return Buffer.concat([...(manifestResource.read(0, manifestResource.size) as Iterable<Buffer>)]);
      }
      throw new Error(`artifact server: no generated artifact at ${key}`);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function readJsonObject(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const parsed = tryParse(await readFile(path, 'utf8'));
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
