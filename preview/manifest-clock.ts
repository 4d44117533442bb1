// Dates for the manifests the preview publishes (the delta scenario's
// releases, the disk-full scenario's, the demo's again afterwards). The cache
// remembers the newest manifest it accepted from the server, through a clear
// too (rollback protection), so each one is dated later than the one before,
// whichever scenario publishes it.
import { GENERATED_UPDATED_AT } from '../server/index.js';

export class ManifestClock {
  private last = Date.parse(GENERATED_UPDATED_AT);

  /** Now, or a second after the last date handed out, whichever is later. */
  next(): string {
    this.last = Math.max(Date.now(), this.last + 1000);
    return new Date(this.last).toISOString();
  }
}
