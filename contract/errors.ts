// zod schemas for error codes and the error shape; the codes and their words
// live in codes.ts, which has no zod so the renderer can bundle it cheaply.
import { z } from 'zod';
import { ERROR_CODES } from './codes.js';

export { ERROR_CODES, ERROR_WORDS, type ErrorCode } from './codes.js';

export const ErrorCodeSchema = z.enum(ERROR_CODES);

const bytes = z.number().int().nonnegative();

/**
 * Disk full, found before any byte was written (the engine's free-space
 * check): the folder, the free space the download needs there (its bytes
 * plus a safety margin), and the free space there is.
 */
export const DiskSpaceDetailSchema = z.object({
  kind: z.literal('disk-space'),
  path: z.string().min(1).max(4096),
  neededBytes: bytes,
  freeBytes: bytes,
});
export type DiskSpaceDetail = z.infer<typeof DiskSpaceDetailSchema>;

/**
 * The figures behind an error, for a page to word in its own language (the
 * message is the engine's, in English). One shape per `kind`; a value of no
 * known shape is refused, so what crosses IPC is always one of these.
 */
export const ErrorDetailSchema = z.discriminatedUnion('kind', [DiskSpaceDetailSchema]);
export type ErrorDetail = z.infer<typeof ErrorDetailSchema>;

/** Every failure as it crosses to a page: in progress events, and (with `ok: false`) as a call's answer. */
export const ErrorInfoSchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  detail: ErrorDetailSchema.optional(),
});
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;
