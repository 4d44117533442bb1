// The request log and byte counters. Bytes are added when the socket reports
// them flushed, not when handed to res.write(), so a connection reset mid-body
// counts only what actually went out; tests assert resumes from these numbers.

import { normalizeKey } from './keys.js';
import type { RequestRecord } from './types.js';

export class Traffic {
  readonly requests: RequestRecord[] = [];
  private total = 0;
  private readonly perKey = new Map<string, number>();

  begin(
    method: string,
    key: string,
    range: string | undefined,
    ifRange: string | undefined,
    authorization?: string,
  ): RequestRecord {
    const record: RequestRecord = { method, path: key, status: 0, bytesSent: 0 };
    if (range !== undefined) record.range = range;
    if (ifRange !== undefined) record.ifRange = ifRange;
    if (authorization !== undefined) record.authorization = authorization;
    this.requests.push(record);
    return record;
  }

  addBytes(record: RequestRecord, n: number): void {
    record.bytesSent += n;
    this.total += n;
    this.perKey.set(record.path, (this.perKey.get(record.path) ?? 0) + n);
  }

  bytesServed(path?: string): number {
    if (path === undefined) return this.total;
    return this.perKey.get(normalizeKey(path)) ?? 0;
  }
}
