// Error codes are the stable part of every failure: the engine throws them, the
// CLI maps them to exit codes, and the panel maps them to words. Messages can
// change; codes cannot. No zod here: the renderer bundles this file alone.

export const ERROR_CODES = [
  'ERR_MANIFEST_FETCH',
  'ERR_MANIFEST_INVALID',
  'ERR_UNSAFE_KEY',
  'ERR_UNSUPPORTED_ARCH',
  'ERR_INSECURE_URL',
  'ERR_DOWNLOAD_HTTP',
  'ERR_NETWORK',
  'ERR_TIMEOUT',
  'ERR_STALLED',
  'ERR_SHA256_MISMATCH',
  'ERR_SIGNATURE',
  'ERR_ROLLBACK',
  'ERR_MANIFEST_EXPIRED',
  'ERR_DISK_FULL',
  'ERR_IO',
  'ERR_LOCK',
  'ERR_CACHE_LAYOUT',
  'ERR_IMPORT_SOURCE',
  'ERR_TAR_CORRUPT',
  'ERR_ABORTED',
  'ERR_INVALID_REQUEST',
  'ERR_FORBIDDEN_SENDER',
  'ERR_INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** What the panel says for each code: a sentence a person can act on. */
export const ERROR_WORDS: Record<ErrorCode, string> = {
  ERR_MANIFEST_FETCH: 'Could not reach the image server. Check your connection, then retry.',
  ERR_MANIFEST_INVALID:
    'The image server published a manifest this app cannot use. Your existing images are untouched; try again later.',
  ERR_UNSAFE_KEY: 'The manifest names a file outside the cache. It was refused; nothing was written.',
  ERR_UNSUPPORTED_ARCH: 'This computer’s processor type has no VM image.',
  ERR_INSECURE_URL: 'The image server address is not secure (http). Use an https address.',
  ERR_DOWNLOAD_HTTP: 'The image server refused the download. Retry later.',
  ERR_NETWORK: 'The connection dropped. Retry to resume where it stopped.',
  ERR_TIMEOUT: 'The image server did not answer in time. Retry to resume.',
  ERR_STALLED: 'The download stalled. Retry to resume where it stopped.',
  ERR_SHA256_MISMATCH:
    'A downloaded image did not match its checksum and was discarded. Retry to download it again.',
  ERR_SIGNATURE:
    'The manifest’s signature does not match the publisher’s key, so it was refused. Nothing was changed; tell the app’s publisher.',
  ERR_ROLLBACK:
    'The image server offered an older manifest than the one this cache already trusts. It was refused; your images are untouched.',
  ERR_MANIFEST_EXPIRED:
    'The image server’s manifest has expired and was refused. Your images are untouched; the publisher must publish a fresh one.',
  ERR_DISK_FULL: 'Not enough free disk space for the VM images. Free some space, then retry.',
  ERR_IO: 'The cache folder could not be written. Check its permissions, then retry.',
  ERR_LOCK: 'Another copy of the app is updating the images. Wait for it to finish, then retry.',
  ERR_CACHE_LAYOUT:
    'The cache folder holds something this app did not create. Nothing was changed; choose another folder or move those files away.',
  ERR_IMPORT_SOURCE:
    'The folder or archive to import from is missing a file or cannot be read. Nothing was changed; copy it again.',
  ERR_TAR_CORRUPT: 'The archive to import from is damaged. Nothing was changed; copy it again.',
  ERR_ABORTED: 'Download cancelled. Retry resumes where it stopped.',
  ERR_INVALID_REQUEST: 'The request was not understood.',
  ERR_FORBIDDEN_SENDER: 'The request came from a page that may not manage the cache.',
  ERR_INTERNAL: 'Something went wrong. Retry; if it keeps failing, send the log file to support.',
};
