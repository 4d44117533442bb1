// Picks the partial writer: the worker thread by default, the plain reference
// when asked for (see partial-file.ts).
import type { PartialFile, WriterKind } from './partial-file.js';
import { PartialWriter } from './partial-writer.js';
import { PlainPartialWriter } from './plain-partial-writer.js';

export function openPartialFile(
  kind: WriterKind,
  file: string,
  offset: number,
  keepAfter = false,
): Promise<PartialFile> {
  return kind === 'plain'
    ? PlainPartialWriter.open(file, offset, keepAfter)
    : PartialWriter.open(file, offset, keepAfter);
}
