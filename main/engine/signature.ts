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
 * The most a `.sig` may hold: 64 bytes is 88 characters of base64; the rest is
 * room for a newline or a comment. More than this is not a signature, and is
 * refused without reading on.
 */
export const SIGNATURE_MAX_BYTES = 4096;

const HOW_TO =
  'set publicKey to what `vm-cache keygen` printed: the raw 32-byte key in base64 or hex, or a PEM public key';

/**
 * Accepts a PEM (SPKI) public key, or the raw 32-byte key in base64 or hex,
 * as `vm-cache keygen` prints it. Every refusal says what was wrong with it.
 */
export function parsePublicKey(key: string | KeyObject): KeyObject {
  if (typeof key !== 'string') return assertEd25519Public(key);
  const text = key.trim();
  if (text === '') throw unusable('it is empty');
  if (text.includes('-----BEGIN')) return fromPem(text);
  // A key pasted from a wrapped terminal line may carry line breaks.
  const compact = text.replace(/\s+/g, '');
  if (/^[0-9a-f]{64}$/i.test(compact)) return fromRaw(Buffer.from(compact, 'hex'));
  const base64 = strictBase64(compact);
  if (base64?.length === 32) return fromRaw(base64);
  throw unusable(whyNotRaw(compact, base64));
}

function fromPem(text: string): KeyObject {
  // A private key would yield its public half, but it must never ship inside an app.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw unusable(
      'it is a PRIVATE key; configure the public key and keep the private key with the publisher',
    );
  }
  let parsed: KeyObject;
  try {
    parsed = createPublicKey(text);
  } catch (cause) {
    throw unusable(
      `its PEM block could not be read (${(cause as Error).message}); paste the whole block, BEGIN and END lines included`,
      cause,
    );
  }
  return assertEd25519Public(parsed);
}

function fromRaw(raw: Buffer): KeyObject {
  try {
    return createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
      format: 'jwk',
    });
  } catch (cause) {
    throw unusable(`its 32 bytes are not an Ed25519 public key (${(cause as Error).message})`, cause);
  }
}

/** The bytes of standard or URL-safe base64, or undefined when `text` is not exactly that. */
function strictBase64(text: string): Buffer | undefined {
  if (!/^(?:[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+)$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  // Node skips what it cannot decode; a round trip shows that nothing was skipped.
  const canonical = (s: string) => s.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  return canonical(bytes.toString('base64')) === canonical(text) ? bytes : undefined;
}

function whyNotRaw(text: string, base64: Buffer | undefined): string {
  if (/^[0-9a-f]+$/i.test(text)) {
    return text.length % 2 === 0
      ? `expected 32 bytes (64 hex characters), got ${text.length / 2} bytes (${text.length} hex characters)`
      : `expected 32 bytes (64 hex characters), got ${text.length} hex characters, an odd count`;
  }
  if (text.length === 64) {
    // The length of a hex key: the stray character is the likelier mistake than a 48-byte base64 key.
    const bad = [...text].findIndex((c) => !/[0-9a-f]/i.test(c));
    return `it has the 64 characters of a hex key, but ${JSON.stringify(text[bad])} at character ${bad + 1} is not a hex digit`;
  }
  if (base64) return `expected 32 bytes, got ${base64.length} (base64 of ${text.length} characters)`;
  const bad = [...text].findIndex((c) => !/[A-Za-z0-9+/=_-]/.test(c));
  if (bad >= 0) {
    return `it is neither hex nor base64: ${JSON.stringify(text[bad])} at character ${bad + 1} belongs to neither`;
  }
  return `it is neither 64 hex characters nor well-formed base64 (${text.length} characters)`;
}

function assertEd25519Public(key: KeyObject): KeyObject {
  if (key.type !== 'public') {
    throw unusable(
      key.type === 'private'
        ? 'it is a PRIVATE key; configure the public key and keep the private key with the publisher'
        : `it is a ${key.type} key, not a public key`,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new SignatureError(`the configured public key is ${key.asymmetricKeyType}, not Ed25519; ${HOW_TO}`);
  }
  return key;
}

function unusable(reason: string, cause?: unknown): SignatureError {
  return new SignatureError(
    `the configured public key is not an Ed25519 public key: ${reason}; ${HOW_TO}`,
    cause === undefined ? {} : { cause },
  );
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
