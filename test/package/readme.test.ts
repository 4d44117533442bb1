// The README's "Embedding" section is the example host's code: each of its
// TypeScript blocks must appear, as written, in the file of the example it
// comes from, so the two cannot drift apart. And no doc is committed with a
// figure still to fill in.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './support.js';

function embeddingBlocks(): string[] {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Embedding'), readme.indexOf('## The `vm-cache` CLI'));
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

const example = (file: string) => readFileSync(path.join(REPO, 'examples', 'host-app', file), 'utf8');

describe('README: Embedding', () => {
  it('shows the example’s main, preload and settings page code as they are', () => {
    const [main, preload, settings] = embeddingBlocks();
    expect(example('src/main/index.ts')).toContain(main);
    expect(example('src/preload/index.ts')).toContain(preload);
    expect(example('src/renderer/settings.ts')).toContain(settings);
  });

  it('shows the preload setting of the example’s electron-vite config', () => {
    const config = embeddingBlocks()[3]!;
    const setting = (text: string) => text.match(/externalizeDeps: \{[^}]*\}/)?.[0];
    expect(setting(config)).toBeDefined();
    expect(setting(example('electron.vite.config.ts'))).toBe(setting(config));
  });
});

describe('docs', () => {
  it('hold no {PLACEHOLDER} left for a figure', () => {
    const files = [
      'README.md',
      'CHANGELOG.md',
      ...readdirSync(path.join(REPO, 'docs')).map((f) => `docs/${f}`),
    ];
    const left = files
      .filter((f) => f.endsWith('.md'))
      .flatMap((f) =>
        [...readFileSync(path.join(REPO, f), 'utf8').matchAll(/\{[A-Z][A-Z_]{2,}\}/g)].map(
          (m) => `${f}: ${m[0]}`,
        ),
      );
    expect(left).toEqual([]);
  });
});
