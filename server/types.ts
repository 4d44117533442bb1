// Public types of the artifact server. Kept apart from the implementation so
// tests, the demo app and the CLI can import them without pulling in node:http.

import type { KeyObject } from 'node:crypto';

export type Arch = 'arm64' | 'x64' | 'ia32';

/** An artifact whose bytes are generated from a seed, so no file exists on disk. */
export interface GeneratedArtifact {
  agent: string;
  version: string;
  arch: Arch;
  sizeBytes: number;
  /** Defaults to `${agent}-${version}-${arch}`. */
  seed?: string;
}

/**
 * A misbehaviour applied to the requests for one path (a tarball key, or
 * 'vm/manifest.json'). Every knob is optional and they combine.
 */
export interface Fault {
  /** Answer this status (e.g. 503, 429, 404) with an empty body instead of the content. */
  status?: number;
  /** Retry-After header value sent with `status`. */
  retryAfter?: string;
  /** Apply this fault to the next N requests for the path only (default: until cleared). */
  times?: number;
  /** Destroy the socket after this many body bytes of the response have been flushed. */
  resetAtByte?: number;
  /** Stop sending after this many body bytes and keep the connection open (until close()). */
  stallAtByte?: number;
  /** Send the body at this rate. */
  dripBytesPerSec?: number;
  /** Answer 200 with the whole body even when Range is sent. */
  ignoreRange?: boolean;
  /** A new ETag and Last-Modified on every request, as if the file changed each time. */
  changeEtag?: boolean;
  /**
   * Flip one byte at this offset of the resource (the same file offset whether the
   * response is full or a range, so a full download and a resume agree on which
   * byte is bad). Not applied when the response does not cover that offset.
   */
  corruptByteAt?: number;
  /** Send this many junk bytes after the real content; Content-Length includes them. */
  extraBytes?: number;
  /** 302 to itself forever. */
  redirectLoop?: boolean;
  /** Wait this long before sending headers. */
  delayMs?: number;
  /**
   * Drop the connection when the client reads nothing for this long while the
   * body is being sent, as nginx's send_timeout does.
   */
  sendTimeoutMs?: number;
  /** Replace the body entirely (e.g. an invalid JSON manifest); Content-Length follows. */
  body?: string | Buffer;
}

export interface ArtifactServerOptions {
  /** Generated deterministic content, no file on disk. */
  artifacts?: GeneratedArtifact[];
  /**
   * Serve a folder as it is: keys are relative paths (vm/images/x.tar.gz,
   * vm/manifest.json, any .sig file). With `artifacts` too, generated keys win.
   */
  dir?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Body throughput cap applied to each response (for the demo). */
  throttleBytesPerSec?: number;
  /** Extra top-level fields merged into the generated manifest. */
  manifestExtra?: Record<string, unknown>;
  /**
   * Sign the manifest the server publishes (generated, or set with
   * setManifest) with this Ed25519 private key (a KeyObject or PEM), and
   * serve the signature at `vm/manifest.json.sig` in base64, as
   * `vm-cache manifest sign` writes it. Default: not signed.
   */
  signingKey?: KeyObject | string;
}

export interface RequestRecord {
  method: string;
  /** The key asked for, without a leading slash (e.g. 'vm/manifest.json'). */
  path: string;
  range?: string;
  ifRange?: string;
  /** The Authorization header, when one was sent (tests check credentials stay with their origin). */
  authorization?: string;
  /** The status answered (0 while a delayed response has not decided yet). */
  status: number;
  /** Body bytes flushed to the socket so far for this response. */
  bytesSent: number;
  /** Set once the response is over (sent in full, or its connection cut): bytesSent is final. */
  closed?: true;
}

export interface ArtifactServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** `${url}/vm/manifest.json` */
  readonly manifestUrl: string;
  /**
   * The manifest document: generated (schema 2) with `artifacts`; for `dir`, the
   * parsed vm/manifest.json if present. Follows setManifest() when it is given an
   * object or a string that parses as JSON.
   */
  readonly manifest: Record<string, unknown>;
  /** Every request, in arrival order. */
  readonly requests: RequestRecord[];
  /** Body bytes actually flushed to sockets, for all paths or one. */
  bytesServed(path?: string): number;
  /** Set or clear (undefined) the fault for a path such as 'vm/images/a-1-x64.tar.gz'. */
  setFault(path: string, fault: Fault | undefined): void;
  /** Replace what /vm/manifest.json serves (object -> pretty JSON + "\n"; string as-is). */
  setManifest(doc: unknown): void;
  /**
   * Sign the published manifest with this key from now on (its .sig follows
   * every setManifest), or stop serving a signature (undefined).
   */
  setSigningKey(key: KeyObject | string | undefined): void;
  /**
   * Offline: every connection is dropped as it opens, and the open ones at
   * once, as a network that is down would; clients see a reset, never an
   * HTTP answer. false serves again.
   */
  setOffline(offline: boolean): void;
  /** The full expected bytes of a generated artifact (small sizes only). */
  contentOf(key: string): Buffer;
  /** Close the server and destroy open sockets, stalled ones included. */
  close(): Promise<void>;
}
