// The engine with `writer: 'plain'` (the reference partial writer): a cold
// sync, a resume after a cut connection, and a corrupt download, as with the
// worker thread.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureVmCacheSynced } from '../../main/engine/index.js';
import { entryOf, oneArtifactServer, tempRoot } from '../helpers.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe("writer: 'plain'", () => {
  it('syncs, resumes after a cut connection without fetching the kept bytes again, refuses bad bytes', async () => {
    const size = 3_000_000;
    const s = await oneArtifactServer(size);
    const { key, sha256: expected } = entryOf(s);
    const root = await tempRoot();
    const o = { root, manifestUrl: s.manifestUrl, rawHostArch: 'x64', writer: 'plain' as const };

    s.setFault(key, { resetAtByte: 1_200_000, times: 1 });
    const result = await ensureVmCacheSynced({
      ...o,
      retries: 1,
      retryPolicy: { baseDelayMs: 1, maxDelayMs: 1 },
    });
    expect(result.downloaded).toEqual([key]);
    expect(sha256(await readFile(path.join(root, 'cache', key)))).toBe(expected);
    const resumed = s.requests.filter((r) => r.path === key);
    expect(resumed).toHaveLength(2);
    expect(resumed[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(s.bytesServed(key)).toBeLessThan(size * 1.1);

    const other = await tempRoot();
    s.setFault(key, { corruptByteAt: 10 });
    await expect(ensureVmCacheSynced({ ...o, root: other })).rejects.toMatchObject({
      code: 'ERR_SHA256_MISMATCH',
    });
    expect(existsSync(path.join(other, 'cache', `${key}.partial`))).toBe(false);
  });
});
