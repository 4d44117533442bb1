// Who may manage the cache: a page in a main frame whose URL belongs to the
// app. Subframes are refused outright (an embedded third-party frame must not
// reach the cache even inside our own window).

export interface SenderInfo {
  /** Stable per receiver: a webContents id in Electron, a connection id over a socket. */
  id: number;
  /** The sending frame's URL at the time of the call. */
  url: string;
  isMainFrame: boolean;
}

export type SenderPolicy = (sender: SenderInfo) => boolean;

/**
 * `allowedOrigins` holds web origins (`http://localhost:5173`) and, for pages
 * loaded from disk, file URL prefixes (`file:///opt/app/out/renderer/`): a
 * file:// page is allowed when its URL starts with one of them. `file://` has
 * no origin of its own (it is "null" to the web), so a prefix is the only
 * meaningful check; a prefix is treated as a folder so `/renderer-evil/` does
 * not pass for `/renderer`.
 */
export function defaultSenderPolicy(allowedOrigins: string[]): SenderPolicy {
  const origins = new Set<string>();
  const filePrefixes: string[] = [];
  for (const entry of allowedOrigins) {
    const url = safeUrl(entry);
    if (!url) continue;
    if (url.protocol === 'file:') filePrefixes.push(url.href.endsWith('/') ? url.href : `${url.href}/`);
    else {
      const origin = originOf(url);
      if (origin) origins.add(origin);
    }
  }
  return (sender) => {
    if (sender.isMainFrame !== true || typeof sender.url !== 'string') return false;
    const url = safeUrl(sender.url);
    if (!url) return false;
    if (url.protocol === 'file:') {
      // href is normalised: `..` segments and percent-escapes cannot climb out of the prefix.
      return filePrefixes.some((prefix) => url.href.startsWith(prefix));
    }
    const origin = originOf(url);
    return origin !== undefined && origins.has(origin);
  };
}

/**
 * The web origin, also for a host app's own scheme (`app://host`): Chromium
 * gives a standard custom scheme a real origin, where Node's URL says "null".
 * A URL with no host (data:, about:) has none, and matches nothing.
 */
function originOf(url: URL): string | undefined {
  if (url.origin !== 'null') return url.origin;
  return url.host ? `${url.protocol}//${url.host}` : undefined;
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
