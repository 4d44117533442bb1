// Which webContents may talk to the hub: windows this plugin opened and
// windows the host registered. A window that navigates or closes loses its
// progress subscription at once (its new page must subscribe again).
import type { WebContents } from 'electron';

export class SenderRegistry {
  private readonly ids = new Set<number>();

  constructor(private readonly dropSender: (id: number) => void) {}

  has(id: number): boolean {
    return this.ids.has(id);
  }

  track(contents: WebContents): void {
    // Read now: a destroyed webContents can no longer tell its id.
    const id = contents.id;
    if (this.ids.has(id)) return;
    this.ids.add(id);
    contents.on('did-start-navigation', (details) => {
      if (details.isMainFrame && !details.isSameDocument) this.dropSender(id);
    });
    contents.once('destroyed', () => {
      this.ids.delete(id);
      this.dropSender(id);
    });
  }
}
