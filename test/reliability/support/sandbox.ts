// A cache root with sentinel files beside it, for "never a write outside the
// cache": the root is <parent>/root, and <parent> also holds files a traversal
// key would aim at (../../etc/passwd from <root>/cache lands in <parent>/etc).
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { listFiles, tempRoot } from '../../helpers.js';

const SENTINELS = ['sentinel.txt', 'etc/passwd', 'cache/vm/manifest.json', 'x.tar.gz', 'evil'];
/** Absolute targets some hostile manifests name; as root, a write there would succeed. */
const ABSOLUTE_TARGETS = ['/etc/cron.d/evil', '/evil', '/x.tar.gz'];

export interface Sandbox {
  parent: string;
  root: string;
  /** What changed outside <root>/cache and <root>/state since creation (empty when nothing). */
  outsideWrites(): Promise<string[]>;
}

export async function sandbox(): Promise<Sandbox> {
  const parent = await tempRoot();
  const root = path.join(parent, 'root');
  const before = new Map<string, { text: string; mtimeMs: number }>();
  for (const rel of SENTINELS) {
    const file = path.join(parent, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `sentinel ${rel}\n`);
    before.set(rel, { text: await readFile(file, 'utf8'), mtimeMs: (await stat(file)).mtimeMs });
  }
  const absentBefore = ABSOLUTE_TARGETS.filter((f) => !existsSync(f));
  return {
    parent,
    root,
    async outsideWrites() {
      const problems: string[] = [];
      for (const rel of await listFiles(parent)) {
        const inside = rel.startsWith('root/cache/') || rel.startsWith('root/state/');
        const sentinel = before.get(rel);
        if (sentinel) {
          const file = path.join(parent, rel);
          const now = { text: await readFile(file, 'utf8'), mtimeMs: (await stat(file)).mtimeMs };
          if (now.text !== sentinel.text || now.mtimeMs !== sentinel.mtimeMs)
            problems.push(`sentinel changed: ${rel}`);
        } else if (!inside) {
          problems.push(`written outside the cache: ${rel}`);
        }
      }
      for (const rel of SENTINELS)
        if (!existsSync(path.join(parent, rel))) problems.push(`sentinel removed: ${rel}`);
      // Folders too: an empty folder created outside is still a write outside.
      const topLevel = new Set(['root', ...SENTINELS.map((rel) => rel.split('/')[0]!)]);
      for (const entry of await readdir(parent)) {
        if (!topLevel.has(entry)) problems.push(`written outside the cache: ${entry}`);
      }
      for (const entry of await readdir(root).catch(() => [] as string[])) {
        if (entry !== 'cache' && entry !== 'state') problems.push(`unexpected entry in the root: ${entry}`);
      }
      for (const f of absentBefore) if (existsSync(f)) problems.push(`written outside the cache: ${f}`);
      return problems;
    },
  };
}
