// Signed manifests at the engine level: with a public key the .sig must verify
// over the exact manifest bytes; every failure leaves the disk as it was.
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ensureVmCacheSynced, getCachedManifestPath } from '../../main/engine/index.js';
import { listFiles, oneArtifactServer, tempRoot } from '../helpers.js';

function keys() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey };
}

async function signedServer() {
  const s = await oneArtifactServer(50_000);
  const k = keys();
  const bytes = Buffer.from(`${JSON.stringify(s.manifest, null, 2)}\n`);
  s.setFault('vm/manifest.json.sig', { body: `${sign(null, bytes, k.privateKey).toString('base64')}\n` });
  return { s, k, bytes };
}

describe('signed manifests', () => {
  it('a good signature: the sync proceeds (manifest, .sig, tarball)', async () => {
    const { s, k } = await signedServer();
    const root = await tempRoot();
    const result = await ensureVmCacheSynced({
      root,
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      publicKey: k.publicPem,
    });
    expect(result.downloaded).toHaveLength(1);
    expect(s.requests.map((r) => r.path)).toEqual([
      'vm/manifest.json',
      'vm/manifest.json.sig',
      result.downloaded[0],
    ]);
    // The raw 32-byte key in base64 works too.
    const raw = Buffer.from(
      (await import('node:crypto')).createPublicKey(k.publicPem).export({ format: 'jwk' }).x as string,
      'base64url',
    ).toString('base64');
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64', publicKey: raw });
  });

  it('tampered manifest, tampered signature, wrong key, missing signature: ERR_SIGNATURE and the cache untouched', async () => {
    const { s, k, bytes } = await signedServer();
    const root = await tempRoot();
    await ensureVmCacheSynced({
      root,
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      publicKey: k.publicPem,
    });
    const before = await listFiles(root);
    const manifestBefore = await readFile(getCachedManifestPath(root));
    const o = { root, manifestUrl: s.manifestUrl, rawHostArch: 'x64' };
    const expectRefused = async (publicKey: string, says: RegExp) => {
      const requests = s.requests.length;
      await expect(ensureVmCacheSynced({ ...o, publicKey })).rejects.toMatchObject({
        code: 'ERR_SIGNATURE',
        message: expect.stringMatching(says),
      });
      expect(await listFiles(root)).toEqual(before);
      expect(await readFile(getCachedManifestPath(root))).toEqual(manifestBefore);
      expect(s.requests.slice(requests).every((r) => !r.path.endsWith('.tar.gz'))).toBe(true);
    };

    const tampered = JSON.parse(bytes.toString());
    tampered.agents.openclaw.version = '6.6.6';
    s.setManifest(tampered);
    await expectRefused(k.publicPem, /not signed by the configured key/);
    s.setManifest(JSON.parse(bytes.toString()));

    const goodSig = `${sign(null, bytes, k.privateKey).toString('base64')}\n`;
    s.setFault('vm/manifest.json.sig', { body: Buffer.alloc(64, 1).toString('base64') });
    await expectRefused(k.publicPem, /not signed by the configured key/);
    s.setFault('vm/manifest.json.sig', { body: 'not base64 at all!' });
    await expectRefused(k.publicPem, /malformed/);

    s.setFault('vm/manifest.json.sig', { status: 404 });
    await expectRefused(k.publicPem, /signature missing/);

    s.setFault('vm/manifest.json.sig', { body: goodSig });
    await expectRefused(keys().publicPem, /not signed by the configured key/);
    // The same signature with the right key still passes: the refusals above were the key's doing.
    await ensureVmCacheSynced({ ...o, publicKey: k.publicPem });
  });

  it('a public key that is not Ed25519 is refused before any request', async () => {
    const { s } = await signedServer();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    await expect(
      ensureVmCacheSynced({
        root: await tempRoot(),
        manifestUrl: s.manifestUrl,
        rawHostArch: 'x64',
        publicKey: rsa,
      }),
    ).rejects.toMatchObject({ code: 'ERR_SIGNATURE', message: expect.stringContaining('not Ed25519') });
    expect(s.requests).toHaveLength(0);
  });
});
