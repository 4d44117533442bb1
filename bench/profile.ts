// `npm run bench -- --profile`: one cold sync per transport under node
// --cpu-prof, summarised as the functions with the most self time. Where the
// time goes, before anyone tunes anything.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EngineJob } from './protocol.js';
import { runEngine } from './runners.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time (ms) per function, largest first. */
export function selfTimes(profile: CpuProfile): Array<{ name: string; ms: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const f = byId.get(id)?.callFrame;
    if (!f) return;
    const where = f.url ? ` ${path.basename(f.url)}:${f.lineNumber + 1}` : '';
    const name = `${f.functionName || '(anonymous)'}${where}`;
    totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...totals].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
}

export async function profileRun(script: string, dir: string, job: EngineJob, top = 20): Promise<string> {
  const profDir = path.join(dir, `prof-${job.transport}`);
  const r = await runEngine(script, job, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
  if (!r.ok) throw new Error(`profiled sync failed: ${r.error}`);
  const [file] = await readdir(profDir);
  const profile = JSON.parse(await readFile(path.join(profDir, file!), 'utf8')) as CpuProfile;
  const rows = selfTimes(profile);
  const sampled = rows.reduce((sum, x) => sum + x.ms, 0);
  const idle = rows.find((x) => x.name === '(idle)')?.ms ?? 0;
  return [
    `${job.transport}: sync ${r.totalMs.toFixed(0)} ms, CPU ${r.userMs.toFixed(0)} ms user + ${r.systemMs.toFixed(0)} ms system; main thread busy ${(sampled - idle).toFixed(0)} of ${sampled.toFixed(0)} ms sampled`,
    ...rows.slice(0, top).map((x) => `  ${x.ms.toFixed(1).padStart(8)} ms  ${x.name}`),
    `  (profile kept in ${profDir})`,
  ].join('\n');
}
