// Where tarballs come from (issue #16, mirrors): the host's mirrors, the
// manifest's own root, then the mirrors the signed manifest names. A root is
// kept without its credentials: `user:password` in a mirror's URL becomes an
// Authorization header sent to that root only, and never reaches a sidecar, a
// message or another host. A root that fails goes to the back of the line for
// the rest of the sync, so one dead mirror costs one timeout, not one a tarball.
import { InsecureUrlError, ManifestInvalidError, VmCacheError } from './errors.js';
import { assertSecureUrl, isLoopbackHost, reachesThisMachine } from './url-policy.js';

export interface Root {
  /** The root's URL without credentials, query or trailing slash. */
  root: string;
  /** `Basic ...` when its URL carried `user:password`. */
  authorization?: string;
}

/**
 * Checks a mirror as the manifest URL is checked, and splits its credentials
 * off. `remoteManifest`: the root comes from a manifest that is not on this
 * machine, so it may not point at this machine (as a redirect may not).
 */
export function parseRoot(url: string, allowInsecureHttp: boolean, remoteManifest = false): Root {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ManifestInvalidError(`mirror ${JSON.stringify(withoutCredentials(url))} refused: not a URL`);
  }
  const authorization = u.username
    ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`
    : undefined;
  u.username = '';
  u.password = '';
  const bare = u.toString();
  if (u.search || u.hash)
    throw new ManifestInvalidError(`mirror ${bare} refused: a root has no query or fragment`);
  try {
    assertSecureUrl(bare, allowInsecureHttp);
  } catch (err) {
    if (err instanceof InsecureUrlError) throw err;
    const why = err instanceof Error ? err.message.replace(/^manifest fetch failed: /, '') : String(err);
    throw new ManifestInvalidError(`mirror ${bare} refused: ${why}`);
  }
  if (remoteManifest && reachesThisMachine(u.hostname)) {
    throw new ManifestInvalidError(
      `mirror ${bare} refused: a manifest from another host may not send downloads to this machine`,
    );
  }
  return { root: bare.replace(/\/+$/, ''), ...(authorization ? { authorization } : {}) };
}

/** `url` with any `user:password@` removed, for messages. */
function withoutCredentials(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//');
}

/** Codes after which another root may do better: the server's fault, not ours or the user's. */
const ROOT_FAULTS = new Set([
  'ERR_NETWORK',
  'ERR_TIMEOUT',
  'ERR_STALLED',
  'ERR_DOWNLOAD_HTTP',
  'ERR_SHA256_MISMATCH',
  'ERR_INSECURE_URL',
]);

export class ArtifactRoots {
  private order: string[];
  private readonly auth = new Map<string, string>();

  /** `home`: the manifest's own root; `before` and `after` are tried before and after it. */
  constructor(
    readonly home: string,
    before: readonly Root[] = [],
    after: readonly Root[] = [],
  ) {
    const all = [...before, { root: home }, ...after];
    for (const r of all)
      if (r.authorization && !this.auth.has(r.root)) this.auth.set(r.root, r.authorization);
    this.order = [...new Set(all.map((r) => r.root))];
  }

  /** The roots in the order to try them now. */
  list(): readonly string[] {
    return [...this.order];
  }

  /** A root that failed is tried last from now on (while the others last). */
  demote(root: string): void {
    if (this.order.length < 2 || !this.order.includes(root)) return;
    this.order = [...this.order.filter((r) => r !== root), root];
  }

  /**
   * `run` with each root in turn until one succeeds. A root that fails with
   * what `isRootFault` calls the server's fault goes to the back of the line;
   * anything else (a full disk, a cancel) is thrown at once. When all fail,
   * the error thrown decides the retry: a transient one if any root failed
   * transiently (a mirror that lacks the file must not stop the retry of one
   * that only dropped a connection). Bytes that did not verify after a switch
   * of roots were a mix of two roots' bytes: the root that found out is asked
   * once more, from zero (the partial is gone by then).
   */
  async tryEach<T>(
    signal: AbortSignal | undefined,
    run: (root: string) => Promise<T>,
    isRootFault: (err: VmCacheError) => boolean = (err) => ROOT_FAULTS.has(err.code),
  ): Promise<T> {
    let transient: VmCacheError | undefined;
    let last: unknown;
    for (const [i, root] of this.list().entries()) {
      for (let again = i > 0; ; again = false) {
        try {
          return await run(root);
        } catch (err) {
          last = err;
          if (signal?.aborted || !(err instanceof VmCacheError) || !isRootFault(err)) throw err;
          if (again && err.code === 'ERR_SHA256_MISMATCH') continue;
          if (err.transient) transient ??= err;
          this.demote(root);
          break;
        }
      }
    }
    throw transient ?? last;
  }

  /** The headers only this root may receive (its credentials). */
  headersFor(root: string): Record<string, string> {
    const authorization = this.auth.get(root);
    return authorization ? { authorization } : {};
  }
}

/** True when `url`'s host is this machine's loopback (a manifest served locally may name local mirrors). */
export function isLocalUrl(url: string): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}
