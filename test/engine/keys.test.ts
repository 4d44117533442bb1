// Keys are hostile input: what is refused, what is allowed, and that an
// accepted key can never resolve outside the cache.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyUrl, resolveKeyPath, unsafeKeyReason } from '../../main/engine/keys.js';

describe('keys', () => {
  it('accepts ordinary keys', () => {
    for (const k of [
      'vm/images/openclaw-2026.4.12-arm64.tar.gz',
      'a.tar.gz',
      'vm/images/x y+z@1.tar.gz',
      'vm/ünïcode.tar',
    ]) {
      expect(unsafeKeyReason(k)).toBeUndefined();
    }
  });

  it('refuses every unsafe shape with a reason', () => {
    const cases: Array<[unknown, string]> = [
      [42, 'not a string'],
      ['', 'empty'],
      ['../x', '".." segment'],
      ['vm/./x', '"." segment'],
      ['/etc/passwd', 'absolute path'],
      ['C:/x', 'drive letter'],
      ['c:x', 'drive letter'],
      ['vm\\x', 'backslash'],
      ['vm/\u0000x', 'NUL'],
      ['vm/a\ud800.tar', 'lone UTF-16 surrogate'],
      ['vm/\u0007x', 'control'],
      ['vm//x', 'empty path segment'],
      ['vm/x/', 'empty path segment'],
      ['x'.repeat(1025), 'longer than 1024'],
      ['vm/nul', 'Windows device'],
      ['vm/com1.txt', 'Windows device'],
      ['vm/x.', 'ending in a dot'],
      ['vm/x ', 'ending in a dot or space'],
      ['vm/a?b', 'reserved character'],
      ['VM/Manifest.json', 'names the manifest'],
      ['vm/x.tar.gz.partial.json', 'reserved suffix'],
    ];
    for (const [key, reason] of cases) expect(unsafeKeyReason(key), String(key)).toContain(reason);
  });

  it('resolves inside the cache, and throws ERR_UNSAFE_KEY otherwise', () => {
    const cache = path.resolve('/tmp/root/cache');
    expect(resolveKeyPath(cache, 'vm/images/a.tar.gz')).toBe(path.join(cache, 'vm', 'images', 'a.tar.gz'));
    expect(() => resolveKeyPath(cache, '../../x')).toThrow(
      expect.objectContaining({ code: 'ERR_UNSAFE_KEY' }),
    );
  });

  it('encodes each segment in the URL', () => {
    expect(keyUrl('https://cdn.example.com/base', 'vm/images/a b#1.tar.gz')).toBe(
      'https://cdn.example.com/base/vm/images/a%20b%231.tar.gz',
    );
  });
});
