// One request, start to finish: log it, pick the fault, resolve the key, decide
// status and headers (Range, If-Range, validators), then hand the body to sendBody.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultTable } from './faults.js';
import { parseRequestKey } from './keys.js';
import { GENERATED_UPDATED_AT } from './manifest.js';
import { decideRange, ifRangeHolds } from './range.js';
import { bufferResource, type Resource } from './resources.js';
import { type BodyPlan, sendBody } from './send.js';
import type { Traffic } from './traffic.js';
import type { Fault, RequestRecord } from './types.js';

export interface HandlerContext {
  traffic: Traffic;
  faults: FaultTable;
  throttleBytesPerSec?: number;
  /** The resource a safe key names, or undefined for a 404. */
  lookup(key: string): Promise<Resource | undefined>;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

// changeEtag must yield a different validator on every request, across paths too.
let etagGeneration = 0;

export function createHandler(ctx: HandlerContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(ctx, req, res).catch(() => {
      // A failure after headers went out cannot be reported in HTTP; drop the connection.
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Length': '0' }).end();
      } else {
        res.destroy();
      }
    });
  };
}

async function handle(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const { key, safe } = parseRequestKey(req.url ?? '/');
  const rangeHeader = header(req, 'range');
  const ifRange = header(req, 'if-range');
  const record = ctx.traffic.begin(method, key, rangeHeader, ifRange, header(req, 'authorization'));
  res.once('close', () => {
    record.closed = true;
  });
  // Request bodies are not expected; drain any so keep-alive still works.
  req.resume();

  const fault: Fault = (safe ? ctx.faults.take(key) : undefined) ?? {};

  if (fault.delayMs !== undefined && fault.delayMs > 0) {
    await delay(res, fault.delayMs);
    if (res.destroyed) return;
  }

  if (method !== 'GET' && method !== 'HEAD') {
    return empty(res, record, 405, { Allow: 'GET, HEAD' });
  }
  if (fault.redirectLoop) {
    return empty(res, record, 302, { Location: req.url ?? '/' });
  }
  if (fault.status !== undefined) {
    const headers: Record<string, string> = {};
    if (fault.retryAfter !== undefined) headers['Retry-After'] = fault.retryAfter;
    return empty(res, record, fault.status, headers);
  }

  let resource = safe ? await ctx.lookup(key) : undefined;
  if (fault.body !== undefined) {
    // An override serves even a key that does not exist (e.g. a forged .sig file).
    const body = typeof fault.body === 'string' ? Buffer.from(fault.body, 'utf8') : fault.body;
    const modified = resource ? new Date(resource.lastModified) : new Date(GENERATED_UPDATED_AT);
    resource = bufferResource(body, key, modified);
  }
  if (!resource) return empty(res, record, 404, {});

  let { etag, lastModified } = resource;
  if (fault.changeEtag) {
    // Looks like a new upload: both validators move, so If-Range with either fails.
    etagGeneration += 1;
    etag = `${etag.slice(0, -1)}-v${etagGeneration}"`;
    lastModified = new Date(Date.parse(resource.lastModified) + etagGeneration * 1000).toUTCString();
  }

  const size = resource.size;
  const useRange = !fault.ignoreRange && ifRangeHolds(ifRange, etag, lastModified);
  const decision = useRange ? decideRange(rangeHeader, size) : ({ kind: 'full' } as const);

  const headers: Record<string, string> = {
    'Accept-Ranges': 'bytes',
    ETag: etag,
    'Last-Modified': lastModified,
    'Cache-Control': 'no-cache',
  };
  if (decision.kind === 'unsatisfiable') {
    return empty(res, record, 416, { ...headers, 'Content-Range': `bytes */${size}` });
  }

  const start = decision.kind === 'partial' ? decision.start : 0;
  const end = decision.kind === 'partial' ? decision.end : size;
  const extra = fault.extraBytes !== undefined && fault.extraBytes > 0 ? Math.floor(fault.extraBytes) : 0;
  const status = decision.kind === 'partial' ? 206 : 200;
  headers['Content-Type'] = resource.contentType;
  headers['Content-Length'] = String(end - start + extra);
  if (decision.kind === 'partial') headers['Content-Range'] = `bytes ${start}-${end - 1}/${size}`;
  record.status = status;
  res.writeHead(status, headers);
  if (method === 'HEAD') {
    res.end();
    return;
  }

  const plan: BodyPlan = { pieces: resource.read(start, end), contentLength: end - start, extraBytes: extra };
  if (fault.corruptByteAt !== undefined) plan.corruptAt = fault.corruptByteAt - start;
  if (fault.resetAtByte !== undefined) plan.resetAt = fault.resetAtByte;
  if (fault.stallAtByte !== undefined) plan.stallAt = fault.stallAtByte;
  const rate = minDefined(fault.dripBytesPerSec, ctx.throttleBytesPerSec);
  if (rate !== undefined) plan.bytesPerSec = rate;
  const socket = res.socket;
  if (fault.sendTimeoutMs !== undefined && socket)
    socket.setTimeout(fault.sendTimeoutMs, () => res.destroy());
  try {
    await sendBody(res, plan, (n) => ctx.traffic.addBytes(record, n));
  } finally {
    // The connection may be kept alive for another request without the fault.
    if (fault.sendTimeoutMs !== undefined) socket?.setTimeout(0);
  }
}

// Non-content answers have empty bodies, so bytesServed counts content only and a
// test's arithmetic on resumed transfers is not thrown off by error pages.
function empty(
  res: ServerResponse,
  record: RequestRecord,
  status: number,
  headers: Record<string, string>,
): void {
  record.status = status;
  res.writeHead(status, { ...headers, 'Content-Length': '0' });
  res.end();
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  const values = [a, b].filter((v): v is number => v !== undefined && v > 0);
  return values.length ? Math.min(...values) : undefined;
}

function delay(res: ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.once('close', done);
  });
}
