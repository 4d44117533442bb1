// Every help text, apart from the commands so \`vm-cache --help\` and
// \`vm-cache <command> --help\` load no engine code.
import { EXIT_CODES_HELP } from './exit-codes.js';

export const HELP = `Usage: vm-cache <command> [options]

Keeps a local cache of VM image tarballs in sync with a manifest, and publishes
manifests (build, sign). Every download is resumable and sha256-verified;
with a public key, manifests must carry a valid Ed25519 signature.

Cache:
  sync              download what the manifest lists (live progress, or JSON lines)
  status            what the cache holds
  verify            re-hash the cached tarballs
  clear             remove the cache
  import PATH       fill the cache from a folder or .tar (no network)
  move --to DIR     move the cache to another folder or disk (copy, verify, then delete)

Publishing:
  manifest build DIR --out FILE   build a manifest from vm/images/<agent>-<version>-<arch>.tar.gz
  manifest sign FILE --key KEY    write FILE.sig (Ed25519)
  keygen --out DIR                create a signing key pair
  serve --dir DIR                 serve a folder on 127.0.0.1 (a local mirror)

Run \`vm-cache <command> --help\` for a command's options.

Environment:
  VM_CACHE_MANIFEST_URL   default for --manifest
  VM_CACHE_ROOT           default for --root
  VM_CACHE_PUBLIC_KEY     default for --public-key

${EXIT_CODES_HELP}`;

export const SYNC_HELP = `Usage: vm-cache sync [--manifest URL] [--root DIR] [--all-arches] [--retries N]
                     [--public-key KEY|FILE] [--allow-insecure-http] [--no-delta]
                     [--limit-rate RATE] [--connections N] [--mirror URL]... [--json]

Makes the local cache match the remote manifest: downloads what is missing or
changed, verifies every sha256, resumes partial downloads, writes the manifest last.
A new version of a tarball whose chunk index is published is built from the
chunks of the cached version, and only the rest is downloaded (a delta update).

Options:
  --manifest URL          manifest URL (default: $VM_CACHE_MANIFEST_URL)
  --root DIR              cache root (default: $VM_CACHE_ROOT, else the platform cache folder)
  --all-arches            download every arch in the manifest, not only this host's
  --retries N             extra attempts for network trouble (default 5)
  --public-key KEY|FILE   require <manifest URL>.sig signed by this Ed25519 key
                          (a PEM file, or the key as \`vm-cache keygen\` prints it;
                          default: $VM_CACHE_PUBLIC_KEY)
  --allow-insecure-http   allow http:// to hosts other than loopback
  --no-delta              download new versions whole, never from cached chunks
  --limit-rate RATE       cap the download at RATE bytes per second over all
                          connections, as curl spells it: 24M, 500K (powers of 1024)
  --connections N         the most connections at once (default 8): a large tarball
                          from a server that answers byte ranges is fetched over
                          more while that raises the total rate; 1 keeps to one
  --mirror URL            an artifact root to download tarballs from before the
                          manifest's own (repeat for more, tried in order); a failing
                          one is left for the next, which goes on from the same byte
  --json                  one JSON object per line: {"type":"progress",...} events, then
                          {"type":"result",...} or {"type":"error","code","message"}
                          (the default when stdout is not a terminal)
  -h, --help              this help

On a terminal the display shows each artifact (bytes, state, the sha256 check) and
the total with speed and time left. Ctrl-C cancels: the partial download is kept,
the exit code is 130, and the next sync resumes where it stopped.`;

export const STATUS_HELP = `Usage: vm-cache status [--root DIR] [--json]

Shows the cached manifest (agents, versions, arches, which tarballs are present),
the size on disk and the last sync. Cheap: no hashing.

Options:
  --root DIR   cache root (default: $VM_CACHE_ROOT, else the platform cache folder)
  --json       print the status as one JSON object
  -h, --help   this help`;

export const VERIFY_HELP = `Usage: vm-cache verify [--root DIR] [--all-arches] [--json]
                       [--repair [--manifest URL] [--public-key KEY|FILE]]

Re-hashes every cached tarball this host uses against the cached manifest. A
corrupt tarball whose chunk index the cache kept is checked chunk by chunk: the
report names the bad byte ranges, and the tarball is kept so that the next sync
fetches only those. Without an index, a corrupt tarball is removed and the next
sync downloads it again.

Exit code 0 when every tarball is intact (or --repair repaired it), 4 when one
is missing or corrupt, 1 when there is no cache to verify.

Options:
  --root DIR              cache root (default: $VM_CACHE_ROOT, else the platform cache folder)
  --all-arches            verify every arch's tarballs, not only this host's
  --repair                then sync, to fetch what is bad or missing (only the bad
                          ranges of a tarball kept for repair)
  --manifest URL          for --repair: the manifest URL (default: $VM_CACHE_MANIFEST_URL)
  --public-key KEY|FILE   for --repair: as \`vm-cache sync --public-key\`
  --json                  print the report as one JSON object
  -h, --help              this help`;

export const CLEAR_HELP = `Usage: vm-cache clear [--root DIR] [--json]

Removes the whole cache (the manifest first, so a half-cleared cache never looks
complete). The next sync downloads everything again.

Options:
  --root DIR   cache root (default: $VM_CACHE_ROOT, else the platform cache folder)
  --json       print {"root","removedBytes"} as one JSON object
  -h, --help   this help`;

export const MOVE_HELP = `Usage: vm-cache move --to DIR [--root DIR] [--json]

Moves the cache from --root to DIR, on another disk as a rule: copies it into a
staging folder inside DIR, reads every file back and checks each tarball's
sha256 against the manifest read back from DIR, moves the copy into place, and
only then deletes the cache at --root (the old root folder goes too when
nothing else is in it). The old cache stays locked throughout, so no sync
writes to it meanwhile.

DIR becomes the new root: it must not exist yet or be an empty folder, must not
be the old root nor lie inside it (or hold it), and its disk must have room for
the whole cache (checked first). Partial downloads move too, and the next sync
resumes them. With nothing cached yet, the move only makes DIR the root.

Until the old cache is deleted, a failure, a damaged tarball or Ctrl-C removes
the copy and leaves the cache where it was. A move that was killed is finished
or undone by running the same command again.

The CLI keeps no record of where the cache is: after the move, pass --root DIR
to the next commands (or set VM_CACHE_ROOT=DIR).

Exit code 0 when moved; 1 when DIR is refused (not empty, the same folder, a
file), 4 when a tarball does not verify (repair the cache first with
\`vm-cache verify --repair\`), 5 when DIR's disk lacks the space, 130 when cancelled.

Options:
  --to DIR     the new root (required)
  --root DIR   the cache root to move (default: $VM_CACHE_ROOT, else the platform cache folder)
  --json       one JSON object per line: {"type":"progress","step","doneBytes","totalBytes"}
               (step: copying, verifying, switching, removing), then
               {"type":"result","from","root","movedBytes","files"} or {"type":"error",...}
  -h, --help   this help`;

export const SERVE_HELP = `Usage: vm-cache serve --dir DIR [--port N] [--json]

Serves DIR (laid out like the CDN: vm/manifest.json, vm/manifest.json.sig,
vm/images/...) over HTTP on 127.0.0.1, with byte ranges, so \`vm-cache sync\`
and apps can resume. Prints the manifest URL, then runs until Ctrl-C or SIGTERM.

Options:
  --dir DIR    the folder to serve (required)
  --port N     the port (default: a free one)
  --json       print {"type":"listening","url","manifestUrl"} and one
               {"type":"request",...} line per request
  -h, --help   this help`;

export const KEYGEN_HELP = `Usage: vm-cache keygen --out DIR [--force] [--json]

Creates an Ed25519 key pair for signing manifests:
  DIR/vm-cache.key   the private key (PKCS#8 PEM, mode 0600): keep it secret and
                     off the CDN; \`vm-cache manifest sign\` uses it
  DIR/vm-cache.pub   the public key (SPKI PEM)
and prints the public key as one line of base64, the form apps put in their
\`publicKey\` setting and \`vm-cache sync --public-key\` accepts (so does the .pub file).

Options:
  --out DIR    the folder to write to (created if needed)
  --force      replace an existing key pair
  --json       print {"privateKeyPath","publicKeyPath","publicKey","publicKeyPem"}
  -h, --help   this help`;

export const MANIFEST_HELP = `Usage: vm-cache manifest build DIR --out FILE [options]
       vm-cache manifest sign FILE --key KEY

Run \`vm-cache manifest build --help\` or \`vm-cache manifest sign --help\` for details.`;

export const BUILD_HELP = `Usage: vm-cache manifest build DIR --out FILE [--list FILE] [--image-prefix PREFIX]
                               [--version-from-name] [--manifest-version N]
                               [--expires-in DAYS] [--no-chunk-index] [--previous DIR|URL]
                               [--json]

Builds a schema-2 manifest from the tarballs in DIR/vm/images, named
<agent>-<version>-<arch>.tar.gz with arch arm64 or x64 (for example
openclaw-2026.4.12-arm64.tar.gz). The agent is the part before the first
"-<digit>"; the version runs from there to the arch. Each file is read once,
computing its sha256, its size and its chunk index in the same pass; the index
goes beside it as <tarball>.chunks.json (publish it too) and is named in the
manifest, for delta updates. The result is validated with the
engine's own schema and written atomically. Keys are paths relative to DIR, so
publish DIR as the artifact root (the manifest goes to DIR/vm/manifest.json).

Options:
  --out FILE              where to write the manifest (usually DIR/vm/manifest.json)
  --list FILE             take the tarballs from FILE instead of scanning: one per line,
                          "PATH" (named as above) or "PATH AGENT VERSION ARCH", PATH
                          relative to DIR; blank lines and lines starting with # ignored
  --image-prefix PREFIX   each agent's "image" is PREFIX/<agent>
                          (default: ghcr.io/<agent>/<agent>)
  --version-from-name     take agent, version and arch from the file names (the default;
                          accepted so scripts can say so)
  --manifest-version N    write "manifestVersion": N; apps refuse a manifest whose
                          manifestVersion is lower than one they accepted (raise it
                          with every release; without it, updatedAt orders manifests)
  --expires-in DAYS       write "expiresAt" DAYS from now; apps refuse the manifest
                          after that, so a frozen mirror cannot serve it forever
                          (republish before then)
  --no-chunk-index        write no chunk indexes (clients then always download whole)
  --previous DIR|URL      the previous release: its folder (holding vm/manifest.json)
                          or its manifest URL. Prints, per tarball, the share a client
                          holding it would not download ("78.6 % reusable from the
                          previous release (fetches 2.55 MB of 12.0 MB)"), counting the
                          chunks of every previous tarball of the same arch, as clients
                          do; under 20 % clients download the tarball whole. From a
                          URL only the manifest and the chunk indexes are fetched
  --json                  print {"type":"result","out","agents","tarballs","totalBytes"},
                          with --previous also "previous" and "reuse" (per tarball: key,
                          arch, sizeBytes, compression, comparedWith, notCompared,
                          reusedBytes, fetchBytes, delta), and "warnings" when any
  -h, --help              this help

Delta updates need compression that resynchronises after a change: publish
tarballs compressed with \`gzip -n --rsyncable\`, or uncompressed. A warning (on
stderr; the exit code is unchanged) names an xz or bzip2 tarball, and with
--previous a compressed one under 50 % reusable.`;

export const SIGN_HELP = `Usage: vm-cache manifest sign FILE --key KEY [--json]

Signs FILE (a manifest) with an Ed25519 private key and writes FILE.sig: the
64-byte signature over the exact bytes of FILE, in base64, plus a newline.
Publish FILE.sig next to FILE. Sign after the last change to FILE: any later
change, even whitespace, makes the signature fail.

Options:
  --key KEY    the private key: the PEM file \`vm-cache keygen\` wrote (vm-cache.key)
  --json       print {"type":"result","signature","signaturePath","publicKey"}
  -h, --help   this help`;

export const IMPORT_HELP = `Usage: vm-cache import PATH [--root DIR] [--public-key KEY|FILE] [--all-arches] [--json]

Installs tarballs and their manifest from PATH without a network: a folder laid
out like the CDN (vm/manifest.json, vm/manifest.json.sig, vm/images/...) or a
.tar of such a folder (e.g. \`tar -cf vm-images.tar -C mirror vm\`).

With a public key the signature (vm/manifest.json.sig) is checked first. The
manifest is validated like a sync's; each tarball this host uses is copied while
its sha256 is computed, and only when every one matches are they moved into the
cache, the manifest last. A corrupt, incomplete or tampered import is refused and
the cache is left exactly as it was.

Options:
  --root DIR              cache root (default: $VM_CACHE_ROOT, else the platform cache folder)
  --public-key KEY|FILE   require a valid signature by this Ed25519 key
                          (default: $VM_CACHE_PUBLIC_KEY)
  --all-arches            import every arch in the manifest, not only this host's
  --json                  one JSON object per line: {"type":"artifact",...} per tarball,
                          then {"type":"result",...} or {"type":"error",...}
  -h, --help              this help`;
