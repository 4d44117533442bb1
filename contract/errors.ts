// zod schemas for error codes and the error shape; the codes and their words
// live in codes.ts, which has no zod so the renderer can bundle it cheaply.
import { z } from 'zod';
import { ERROR_CODES } from './codes.js';

export { ERROR_CODES, ERROR_WORDS, type ErrorCode } from './codes.js';

export const ErrorCodeSchema = z.enum(ERROR_CODES);

export const ErrorInfoSchema = z.object({ code: ErrorCodeSchema, message: z.string() });
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;
