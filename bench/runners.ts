// Starting one measured run: an engine child (bundled, plain node) or a shell
// pipeline of native tools, timed from spawn to exit.

import { execFile, spawn } from 'node:child_process';
import type { EngineJob, EngineResult } from './protocol.js';

/** Runs `script` (engine-run.mjs) with plain node on a job; `extraNodeArgs` e.g. --cpu-prof. */
export function runEngine(
  script: string,
  job: EngineJob,
  extraNodeArgs: string[] = [],
): Promise<EngineResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...extraNodeArgs, script, JSON.stringify(job)],
      { maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const last = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(last) as EngineResult);
        } catch {
          reject(
            new Error(`engine run gave no result (${err?.message ?? 'no error'}): ${stderr.slice(-2000)}`),
          );
        }
      },
    );
  });
}

/** Wall time (ms) of `sh -c cmd`; process start-up of the tools is included, as a user would pay it. */
export function timeShell(cmd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('sh', ['-c', cmd], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve(ms);
      else reject(new Error(`${cmd} exited with ${code}`));
    });
  });
}
