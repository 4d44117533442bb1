import { UnsupportedArchError } from './errors.js';

export const MANIFEST_ARCHES = ['arm64', 'x64'] as const;

/**
 * The manifest arch this host downloads. 32-bit x86 hosts run the x64
 * artifacts (they are 64-bit machines running a 32-bit Node/Electron).
 */
export function manifestArchFor(rawHostArch: string): string {
  if (rawHostArch === 'arm64') return 'arm64';
  if (rawHostArch === 'x64' || rawHostArch === 'ia32') return 'x64';
  throw new UnsupportedArchError(rawHostArch);
}
