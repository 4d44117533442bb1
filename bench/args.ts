// Command-line options of `npm run bench`. Sizes are binary (256M = 256 MiB),
// because the targets and the engine's buffers are all powers of two.

export interface BenchArgs {
  sizeBytes: number;
  runs: number;
  /** Run one cold sync under --cpu-prof and print the hottest functions instead of the suite. */
  profile: boolean;
  /** Use a copy of main/engine from this folder (local tuning experiments only). */
  engineDir: string | undefined;
  /** Compare cold syncs of main/engine with a copy in this folder, paired run by run. */
  compareDir: string | undefined;
  /** Also write the markdown table to this file. */
  out: string | undefined;
  /** Measure only the CLI's start-up (no artifact server, no syncs). */
  startupOnly: boolean;
  /** Run only the delta-update suite (bench/delta.ts): real packages, our server and nginx. */
  delta: boolean;
  /** Run only the network suite (bench/network.ts): nginx with and without a per-connection cap, and the engine's cap. */
  network: boolean;
  /** Whether --size / --runs were given (the network suite has its own defaults: 192M, 3 runs). */
  sizeGiven: boolean;
  runsGiven: boolean;
}

const UNITS: Record<string, number> = { '': 1, K: 1 << 10, M: 1 << 20, G: 1 << 30 };

export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMG]?)(?:i?B)?$/i.exec(text.trim());
  const unit = m ? UNITS[(m[2] ?? '').toUpperCase()] : undefined;
  if (!m || unit === undefined)
    throw new Error(`--size: cannot read ${JSON.stringify(text)} (try 256M or 1G)`);
  const bytes = Math.round(Number(m[1]) * unit);
  if (bytes < 1 << 20) throw new Error('--size: at least 1M, or the timings are all noise');
  return bytes;
}

export function formatSize(bytes: number): string {
  if (bytes % (1 << 30) === 0) return `${bytes / (1 << 30)} GiB`;
  if (bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  return `${bytes} B`;
}

export function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = {
    sizeBytes: 256 << 20,
    runs: 5,
    profile: false,
    engineDir: undefined,
    compareDir: undefined,
    out: undefined,
    startupOnly: false,
    delta: false,
    network: false,
    sizeGiven: false,
    runsGiven: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] ?? '').split('=', 2) as [string, string | undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--size') {
      args.sizeBytes = parseSize(value());
      args.sizeGiven = true;
    } else if (flag === '--runs') {
      args.runs = Number(value());
      args.runsGiven = true;
      if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error('--runs: a whole number ≥ 1');
    } else if (flag === '--profile') args.profile = true;
    else if (flag === '--engine') args.engineDir = value();
    else if (flag === '--compare') args.compareDir = value();
    else if (flag === '--out') args.out = value();
    else if (flag === '--startup') args.startupOnly = true;
    else if (flag === '--delta') args.delta = true;
    else if (flag === '--network') args.network = true;
    else if (flag === '--help' || flag === '-h') {
      console.log(
        'usage: npm run bench -- [--size 256M|1G] [--runs N] [--out FILE] [--profile] [--engine DIR] [--compare DIR] [--startup] [--delta] [--network]',
      );
      process.exit(0);
    } else throw new Error(`unknown option ${flag}`);
  }
  return args;
}
