// Faults per path, with the `times` countdown: a test says "the next 2 requests
// fail" and the third succeeds without the test having to clear anything.

import { normalizeKey } from './keys.js';
import type { Fault } from './types.js';

interface Entry {
  fault: Fault;
  remaining: number; // Infinity when `times` was not given
}

export class FaultTable {
  private readonly entries = new Map<string, Entry>();

  set(path: string, fault: Fault | undefined): void {
    const key = normalizeKey(path);
    if (fault === undefined) {
      this.entries.delete(key);
      return;
    }
    const remaining =
      fault.times === undefined ? Number.POSITIVE_INFINITY : Math.max(0, Math.floor(fault.times));
    // A copy, so a caller mutating its object later does not change a fault in effect.
    if (remaining > 0) this.entries.set(key, { fault: { ...fault }, remaining });
    else this.entries.delete(key);
  }

  /** The fault for this request, consuming one use of it. */
  take(key: string): Fault | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.entries.delete(key);
    return entry.fault;
  }
}
