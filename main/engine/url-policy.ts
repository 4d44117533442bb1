// Which URLs the engine will fetch: https anywhere, http only to this machine
// (or anywhere with allowInsecureHttp), and nothing else. The same rule holds
// for the configured URL and for every redirect hop, each judged before it is
// requested: a cleartext hop in the middle of a chain leaks the request and
// lets whoever answers it steer the rest of the chain.
import { BlockList, isIP } from 'node:net';
import { InsecureUrlError, ManifestFetchError, VmCacheError } from './errors.js';

// Judged on the parsed host, never by prefix: `127.attacker.example` is a DNS
// name its owner can point anywhere, while the URL parser has already turned
// every spelling of an IPv4 literal (127.1, 0x7f.1, 2130706433) into dotted form.
const LOOPBACK_ADDRESSES = new BlockList();
LOOPBACK_ADDRESSES.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK_ADDRESSES.addAddress('::1', 'ipv6');

/** True for `localhost`, an IPv4 literal in 127.0.0.0/8, or ::1 (IPv4-mapped forms included). `hostname` as URL gives it. */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost') return true;
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  const family = isIP(bare);
  if (family === 0) return false;
  return LOOPBACK_ADDRESSES.check(bare, family === 6 ? 'ipv6' : 'ipv4');
}

// What a request can reach on this machine beyond loopback: the unspecified
// address (0.0.0.0 and :: connect to local services on Linux and macOS) and
// the names resolvers map to loopback (`localhost.`, `*.localhost`).
const THIS_MACHINE = new BlockList();
THIS_MACHINE.addSubnet('0.0.0.0', 8, 'ipv4');
THIS_MACHINE.addAddress('::', 'ipv6');

/** True for any host that reaches this machine: loopback, the unspecified address, `*.localhost`. */
export function reachesThisMachine(hostname: string): boolean {
  if (isLoopbackHost(hostname)) return true;
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  const bare = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  const family = isIP(bare);
  return family !== 0 && THIS_MACHINE.check(bare, family === 6 ? 'ipv6' : 'ipv4');
}

function allowedHttp(parsed: URL, allowInsecureHttp: boolean): boolean {
  return (
    parsed.protocol === 'https:' ||
    (parsed.protocol === 'http:' && (allowInsecureHttp || isLoopbackHost(parsed.hostname)))
  );
}

/** The configured (first) URL: throws ManifestFetchError for a bad URL or scheme, InsecureUrlError for cleartext http. */
export function assertSecureUrl(url: string, allowInsecureHttp: boolean): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ManifestFetchError(`manifest fetch failed: ${JSON.stringify(url)} is not a valid URL`, {
      cause,
    });
  }
  if (allowedHttp(parsed, allowInsecureHttp)) return;
  if (parsed.protocol !== 'http:') {
    throw new ManifestFetchError(
      `manifest fetch failed: unsupported URL scheme ${parsed.protocol} in ${url}; use https`,
    );
  }
  throw new InsecureUrlError(url);
}

/**
 * A redirect the engine will not follow. Not transient: the server's
 * configuration sends it there, so another attempt would go the same way.
 */
export class RedirectRefusedError extends VmCacheError {
  constructor(from: string, to: string, reason: string) {
    super(
      'ERR_INSECURE_URL',
      `refusing redirect from ${from} to ${to}: ${reason}; nothing was fetched from it. The server (or its CDN) is misconfigured: tell the app's publisher`,
    );
  }
}

/** One redirect hop, before any request to `to`. */
export function assertRedirectAllowed(from: string, to: string, allowInsecureHttp: boolean): void {
  let parsed: URL;
  try {
    parsed = new URL(to, from);
  } catch {
    throw new RedirectRefusedError(from, JSON.stringify(to), 'the Location is not a valid URL');
  }
  // A remote server must not make the app call a service on this machine
  // (request forgery: the request itself is the harm, whatever the bytes).
  // Only a chain that is already on this machine may stay on it.
  const fromParsed = new URL(from);
  if (
    (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
    reachesThisMachine(parsed.hostname) &&
    !reachesThisMachine(fromParsed.hostname)
  ) {
    throw new RedirectRefusedError(from, parsed.href, 'a remote server may not redirect to this machine');
  }
  if (allowedHttp(parsed, allowInsecureHttp)) return;
  if (parsed.protocol !== 'http:') {
    throw new RedirectRefusedError(
      from,
      parsed.href,
      `the ${parsed.protocol} scheme is never followed (only https, or http to this machine)`,
    );
  }
  throw new RedirectRefusedError(
    from,
    parsed.href,
    'cleartext http to a host other than this machine (use https, or pass allowInsecureHttp for a trusted network)',
  );
}
