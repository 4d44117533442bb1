// `npm run preview`: the panel in your browser, backed by the real engine.
//   npm run preview -- [--port N] [--root DIR] [--small] [--fault KIND] (fail-once, corrupt, stall, delta,
//                      disk-full, wrong-key[-cached], offline[-cached])
//                      [--retries N] [--limit-rate RATE] [--locale TAG] [--move-to DIR] [--no-autostart]
// Library use (the e2e tests): import { startPreview } from './preview/index.js'.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MIN_LIMIT_RATE, parseRate } from '../main/engine/index.js';
import { FAULT_HELP, FAULT_KINDS, isFaultKind } from './faults.js';
import { type PreviewOptions, startPreview } from './server.js';

export { FAULT_KINDS, type FaultKind, hostTarballs, type ServerFaultKind } from './faults.js';
export { type Preview, type PreviewOptions, startPreview } from './server.js';

const USAGE = `Usage: npm run preview -- [options]

Serves the <vm-cache-panel> pages on 127.0.0.1 with the real engine behind them.

Options:
  --port N          port to listen on (default: a free port)
  --root DIR        cache root (default: a temporary folder, removed on exit)
  --small           a tiny, fast demo (a few MB instead of a few hundred)
  --fault KIND      make the demo server misbehave for the first sync, or
                    show a delta update:
${FAULT_KINDS.map((k) => `                      ${k.padEnd(16)} ${FAULT_HELP[k]}`).join('\n')}
  --retries N       the engine's retry budget (default 5, as in the app)
  --limit-rate RATE start with a download speed limit, as curl spells it
                    (24M, 500K; at least 1K); the settings page changes it
  --locale TAG      the pages' language (a BCP 47 tag: de, de-AT, en-GB):
                    its words where the panel has them (English, German),
                    English otherwise; passed to the pages as ?lang=TAG
  --move-to DIR     where the settings page's "Move cache to…" moves the cache
                    (the app asks with the OS folder picker; a browser page
                    cannot, so this stands in for it). Default: a new empty
                    folder in the preview's temporary folder each time
                    (beside --root DIR when that is given)
  --no-autostart    do not start a sync by itself (press Download in the page);
                    by default it starts when the first page opens
  -h, --help        this text

Environment:
  VM_CACHE_MANIFEST_URL   sync from this manifest instead of the demo server

In the browser, open a page with ?fault=KIND (or ?fault=none) to replay a
scenario from an empty cache: the sync is cancelled, the cache cleared, the
fault armed and a new sync started (with delta, the cache is synced to v1
first, then the sync shown is the update to v2; with a -cached kind, the demo
is synced first, then the sync shown is the one that fails).`;

function canonicalLocale(tag: string): string | undefined {
  try {
    return Intl.getCanonicalLocales(tag.trim())[0];
  } catch {
    return undefined;
  }
}

function fail(message: string): never {
  console.error(`preview: ${message}\n\n${USAGE}`);
  process.exit(2);
}

const SPEC = {
  port: { type: 'string' },
  root: { type: 'string' },
  small: { type: 'boolean' },
  fault: { type: 'string' },
  retries: { type: 'string' },
  'limit-rate': { type: 'string' },
  locale: { type: 'string' },
  'move-to': { type: 'string' },
  'no-autostart': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: SPEC, allowPositionals: false, strict: true });
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
}

export function parsePreviewArgs(argv: string[]): PreviewOptions | 'help' {
  const v = parse(argv).values;
  if (v.help) return 'help';
  const options: PreviewOptions = { small: v.small ?? false, autoStart: !v['no-autostart'] };
  if (v.port !== undefined) {
    const port = Number(v.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) fail(`--port must be 0-65535, got ${v.port}`);
    options.port = port;
  }
  if (v.retries !== undefined) {
    const retries = Number(v.retries);
    if (!Number.isInteger(retries) || retries < 0) fail(`--retries must be a whole number, got ${v.retries}`);
    options.retries = retries;
  }
  if (v['limit-rate'] !== undefined) {
    const rate = parseRate(v['limit-rate']);
    if (rate === undefined || rate < MIN_LIMIT_RATE)
      fail(`--limit-rate must be a rate of at least 1K (24M, 500K), got ${v['limit-rate']}`);
    options.limitRate = rate;
  }
  if (v.locale !== undefined) {
    const locale = canonicalLocale(v.locale);
    if (!locale) fail(`--locale must be a language tag (de, de-AT, en-GB), got ${v.locale}`);
    options.locale = locale;
  }
  if (v.fault !== undefined) {
    if (!isFaultKind(v.fault)) fail(`--fault must be one of ${FAULT_KINDS.join(', ')}, got ${v.fault}`);
    options.fault = v.fault;
  }
  if (v.root !== undefined) options.root = v.root;
  if (v['move-to'] !== undefined) options.moveTo = v['move-to'];
  return options;
}

async function main(): Promise<void> {
  const options = parsePreviewArgs(process.argv.slice(2));
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  const stamp = () => new Date().toISOString().slice(11, 19);
  options.logger = {
    info: (...args) => console.log(stamp(), ...args),
    warn: (...args) => console.warn(stamp(), 'warn:', ...args),
    error: (...args) => console.error(stamp(), 'error:', ...args),
  };
  console.log('preview: building the renderer…');
  const preview = await startPreview(options);
  console.log(`preview: syncing ${preview.manifestUrl}`);
  console.log(`preview: cache root ${preview.root}${options.root ? '' : ' (temporary)'}`);
  console.log(`preview: log file ${preview.logPath}`);
  if (options.limitRate !== undefined)
    console.log(`preview: download speed limit ${Math.round(options.limitRate / 1024)} KiB/s`);
  if (options.locale) console.log(`preview: pages in ${options.locale} (?lang=${options.locale})`);
  if (options.fault) console.log(`preview: fault armed: ${options.fault} (${FAULT_HELP[options.fault]})`);
  console.log(`\n  First run: ${preview.firstRunUrl}\n  Settings:  ${preview.settingsUrl}\n`);
  console.log(
    options.autoStart === false
      ? 'No sync starts by itself (--no-autostart). Press Ctrl+C to stop.'
      : 'The sync starts when the first page opens. Press Ctrl+C to stop.',
  );
  let closing = false;
  const stop = () => {
    if (closing) process.exit(130);
    closing = true;
    console.log('\npreview: stopping…');
    preview.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  main().catch((err: unknown) => {
    console.error(`preview: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  });
}
