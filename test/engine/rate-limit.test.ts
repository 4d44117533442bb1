// The bandwidth cap against the artifact server on a real socket: a sync never
// goes faster than the cap (slower is always possible on a shared machine, so
// only the lower bound on time is asserted here; how close it holds is in the
// bench), two downloads share one cap, a cap changed mid-sync applies at once,
// and a wait for the cap is never taken for a stall.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureVmCacheSynced, parseRate, RateLimit, type SyncProgress } from '../../main/engine/index.js';
import { keyOf, oneArtifactServer, server, tempRoot } from '../helpers.js';

const MiB = 1 << 20;

describe('limitRate', () => {
  it('a 3 MiB tarball at 1 MiB/s takes at least 2.7 s, and verifies', async () => {
    const s = await oneArtifactServer(3 * MiB);
    const root = await tempRoot();
    const started = performance.now();
    await ensureVmCacheSynced({ root, manifestUrl: s.manifestUrl, rawHostArch: 'x64', limitRate: MiB });
    const seconds = (performance.now() - started) / 1000;
    // The bucket may start full (a twentieth of a second of bytes): 3 MiB needs 2.95 s at least.
    expect(seconds).toBeGreaterThan(2.7);
    const key = keyOf(s);
    expect((await readFile(path.join(root, 'cache', key))).equals(s.contentOf(key))).toBe(true);
  });

  it('two tarballs downloading at once share one cap', async () => {
    const s = await server({
      artifacts: [
        { agent: 'a', version: '1', arch: 'x64', sizeBytes: 1.5 * MiB },
        { agent: 'b', version: '1', arch: 'x64', sizeBytes: 1.5 * MiB },
      ],
    });
    const root = await tempRoot();
    const started = performance.now();
    await ensureVmCacheSynced({
      root,
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      limitRate: MiB,
      concurrency: 2,
    });
    // Each with a cap of its own, the two would take 1.5 s side by side; sharing one, 3 MiB at 1 MiB/s.
    expect((performance.now() - started) / 1000).toBeGreaterThan(2.7);
    expect(s.requests.filter((r) => r.path.startsWith('vm/images/'))).toHaveLength(2);
  });

  it('a cap raised mid-sync applies to the next chunk; waiting for the cap is not a stall', async () => {
    const s = await oneArtifactServer(8 * MiB);
    const root = await tempRoot();
    const limit = new RateLimit(256 << 10);
    const states: string[] = [];
    const running = ensureVmCacheSynced({
      root,
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      limitRate: limit,
      // Shorter than one 64 KiB chunk at 16 KiB/s would take: only the watch being told keeps it alive.
      stallTimeoutMs: 1500,
      onProgress: (p) => states.push(...p.artifacts.map((a) => a.state)),
    });
    await new Promise((r) => setTimeout(r, 800));
    limit.set(16 << 10);
    await new Promise((r) => setTimeout(r, 2000));
    expect(states).not.toContain('stalled');
    const raisedAt = performance.now();
    limit.set(undefined);
    await running;
    // Over 7 MiB were left: at 16 KiB/s that is minutes; uncapped on loopback, well under two seconds.
    expect((performance.now() - raisedAt) / 1000).toBeLessThan(5);
    expect(states).not.toContain('stalled');
  });

  it('a cap set again and again (a settings slider) keeps its rate: what was earned is not lost', async () => {
    const s = await oneArtifactServer(2 * MiB);
    const limit = new RateLimit(MiB);
    // As often as a dragged slider sends input events. Each set used to cost the time
    // earned since the last refill: set every 50 ms that made 2 MiB take 4 to 5 s, too
    // close to the bound below to be caught every time; set every 10 ms, about 11 s.
    const timer = setInterval(() => limit.set(MiB), 10);
    // The download's own time, first byte to last: the manifest, the lock and the
    // commit's fsyncs around it are no part of the rate, and on a loaded disk they vary.
    let firstByteAt: number | undefined;
    let lastByteAt: number | undefined;
    try {
      await ensureVmCacheSynced({
        root: await tempRoot(),
        manifestUrl: s.manifestUrl,
        rawHostArch: 'x64',
        limitRate: limit,
        onProgress: (p) => {
          if (p.receivedBytes > 0) firstByteAt ??= performance.now();
          if (p.receivedBytes === p.totalBytes && p.totalBytes > 0) lastByteAt ??= performance.now();
        },
      });
    } finally {
      clearInterval(timer);
    }
    // About 2 s at the cap (1.9 s measured); losing the time earned between sets, about 11 s.
    expect((lastByteAt! - firstByteAt!) / 1000).toBeLessThan(4.5);
  });

  it('connections sharing a cap take turns: none races ahead of the others', async () => {
    const s = await server({
      artifacts: ['a', 'b', 'c'].map((agent) => ({
        agent,
        version: '1',
        arch: 'x64' as const,
        sizeBytes: 3 * MiB,
      })),
    });
    let mid: SyncProgress | undefined;
    await ensureVmCacheSynced({
      root: await tempRoot(),
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      limitRate: MiB,
      concurrency: 3,
      onProgress: (p) => {
        // A third of the way (about 3 s in at the cap), chosen by bytes, not by the clock:
        // a slow start (a loaded machine) must not leave the snapshot before the first byte.
        if (!mid && p.receivedBytes >= 3 * MiB) mid = p;
      },
    });
    const got = mid!.artifacts.map((a) => a.receivedBytes);
    expect(Math.min(...got)).toBeGreaterThan(0);
    // Turn by turn they stay within a chunk or two of each other (first come, first served: 2.9x apart before).
    expect(Math.max(...got) / Math.min(...got)).toBeLessThan(1.5);
  }, 20_000);

  it('parses rates as curl spells them (powers of 1024) and refuses the rest', () => {
    expect(parseRate('24M')).toBe(24 * MiB);
    expect(parseRate('500K')).toBe(500 * 1024);
    expect(parseRate('1.5m')).toBe(1.5 * MiB);
    expect(parseRate('2G')).toBe(2 * 1024 * MiB);
    expect(parseRate('4096')).toBe(4096);
    for (const bad of ['', 'fast', '-1M', '0', '1T', 'M']) expect(parseRate(bad), bad).toBeUndefined();
    expect(() => new RateLimit(10)).toThrow(/at least 1024/);
  });
});
