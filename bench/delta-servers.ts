// The HTTP servers bench:delta publishes a folder with, each counting the body
// bytes it sent per key: our artifact server (in this process; the engine runs
// in a child, so its CPU figure is its own), and nginx, a server nobody here
// wrote, whose Range handling is the one most CDNs' origins have.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startArtifactServer } from '../server/index.js';

export interface Counted {
  requests: number;
  bytes: number;
}

export interface DirServer {
  name: string;
  url: string;
  /** Requests and body bytes per key (no leading slash) since the server started. */
  traffic(): Promise<Map<string, Counted>>;
  stop(): Promise<void>;
}

function add(map: Map<string, Counted>, key: string, bytes: number): void {
  const c = map.get(key) ?? { requests: 0, bytes: 0 };
  c.requests += 1;
  c.bytes += bytes;
  map.set(key, c);
}

export async function ourServer(dir: string): Promise<DirServer> {
  const server = await startArtifactServer({ dir });
  return {
    name: 'artifact server (server/)',
    url: server.url,
    async traffic() {
      // A response's count is final once it is closed; the client has exited by now.
      for (let i = 0; i < 100 && server.requests.some((r) => !r.closed); i++) await sleep(10);
      const map = new Map<string, Counted>();
      for (const r of server.requests) add(map, r.path, r.bytesSent);
      return map;
    },
    stop: () => server.close(),
  };
}

/** nginx is used when it is on PATH (Debian: apt-get install nginx-light). */
export function haveNginx(): boolean {
  return ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx'].some((f) => existsSync(f));
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export interface NginxOptions {
  /** Folder under `work` for its config and logs (default `nginx`): two servers at once need two. */
  prefixName?: string;
  /** Extra directives for the server block, e.g. `limit_rate 32m;` (bench:network). */
  directives?: string;
}

/**
 * nginx in the foreground, one process (master_process off), serving `dir`
 * as static files with its defaults (single ranges, sendfile). Its access log
 * gives `$body_bytes_sent` per request, written when the request ends.
 */
export async function nginxServer(dir: string, work: string, options: NginxOptions = {}): Promise<DirServer> {
  const prefix = path.join(work, options.prefixName ?? 'nginx');
  await rm(prefix, { recursive: true, force: true });
  await mkdir(prefix, { recursive: true });
  const port = await freePort();
  const log = path.join(prefix, 'access.log');
  const conf = path.join(prefix, 'nginx.conf');
  await writeFile(
    conf,
    `daemon off;
master_process off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log;
events { worker_connections 256; }
http {
  log_format bench '$uri $status $body_bytes_sent';
  access_log ${log} bench;
  client_body_temp_path ${prefix}/body;
  default_type application/octet-stream;
  sendfile on;
  server {
    listen 127.0.0.1:${port};
    root ${dir};${options.directives ? `\n    ${options.directives}` : ''}
  }
}
`,
  );
  const child: ChildProcess = spawn(
    'nginx',
    ['-p', prefix, '-e', path.join(prefix, 'error.log'), '-c', conf],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  // Never left behind: a bench that throws or is interrupted still ends its nginx.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}); see ${prefix}/error.log`);
    if (
      await fetch(`${url}/`).then(
        () => true,
        () => false,
      )
    )
      break;
    if (i > 100) throw new Error('nginx did not answer within 5 s');
    await sleep(50);
  }
  const read = async () => (existsSync(log) ? await readFile(log, 'utf8') : '');
  return {
    name: `nginx ${await nginxVersion()}`,
    url,
    async traffic() {
      // nginx logs a request when it ends: wait until the log stops growing.
      let text = await read();
      for (let i = 0; i < 20; i++) {
        await sleep(25);
        const again = await read();
        if (again === text) break;
        text = again;
      }
      const map = new Map<string, Counted>();
      for (const line of text.split('\n')) {
        const [uri, , bytes] = line.split(' ');
        if (uri) add(map, uri.replace(/^\//, ''), Number(bytes));
      }
      return map;
    },
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGQUIT');
      await exited;
    },
  };
}

async function nginxVersion(): Promise<string> {
  const out = await new Promise<string>((resolve) => {
    const p = spawn('nginx', ['-v'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let text = '';
    p.stderr.on('data', (d: Buffer) => {
      text += d.toString();
    });
    p.once('exit', () => resolve(text));
  });
  return /nginx\/(\S+)/.exec(out)?.[1] ?? '';
}
