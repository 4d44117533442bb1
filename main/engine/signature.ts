// Signed manifests: a sha256 in a manifest fetched from the same CDN as the
// tarballs proves integrity, not authenticity. With a publisher's Ed25519
// public key, the engine checks `<manifest URL>.sig` over the exact manifest
// bytes before it even parses them.
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { SignatureError } from './errors.js';

/** `<manifest URL>.sig`, with the manifest's query kept. */
export function signatureUrlOf(manifestUrl: string): string {
  const u = new URL(manifestUrl);
  u.pathname = `${u.pathname}.sig`;
  u.hash = '';
  return u.toString();
}

/**
 * Accepts a PEM (SPKI) public key, or the raw 32-byte key in base64 or hex,
 * as `vm-cache keygen` prints it.
 */
export function parsePublicKey(key: string | KeyObject): KeyObject {
  if (typeof key !== 'string') return key;
  const text = key.trim();
  try {
    if (text.includes('-----BEGIN')) return assertEd25519(createPublicKey(text));
    const raw = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
    if (raw.length !== 32) throw new Error(`expected 32 bytes, got ${raw.length}`);
    return createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
      format: 'jwk',
    });
  } catch (cause) {
    if (cause instanceof SignatureError) throw cause;
    throw new SignatureError(
      `the configured public key is not an Ed25519 public key: ${(cause as Error).message}`,
      { cause },
    );
  }
}

function assertEd25519(key: KeyObject): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new SignatureError(`the configured public key is ${key.asymmetricKeyType}, not Ed25519`);
  }
  return key;
}

/** The signature file holds the 64-byte signature in base64 (raw bytes are accepted too). */
export function decodeSignature(body: Buffer): Buffer {
  if (body.length === 64) return body;
  const text = body.toString('utf8').trim();
  const decoded = Buffer.from(text, 'base64');
  if (decoded.length !== 64 || !/^[A-Za-z0-9+/=_-]+$/.test(text)) {
    throw new SignatureError('the manifest signature is malformed: expected 64 bytes in base64');
  }
  return decoded;
}

export function verifyManifestSignature(
  manifest: Buffer,
  signature: Buffer,
  key: KeyObject,
  url: string,
): void {
  const sig = decodeSignature(signature);
  if (!verify(null, manifest, key, sig)) {
    throw new SignatureError(
      `manifest signature check failed for ${url}: it was not signed by the configured key; nothing was changed. The manifest or its .sig was tampered with, or the key is wrong`,
    );
  }
}
