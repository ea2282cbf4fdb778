import { z } from 'zod';
import { RESULT_CODES } from '../result-codes.ts';

/**
 * The one JSON error shape of the HTTP API (RFC 9457 problem details, `application/problem+json`)
 * plus Lifeline's result code to branch on.
 */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.enum(RESULT_CODES),
    detail: z.string(),
  })
  .meta({ id: 'Problem' });

export type Problem = z.infer<typeof problemSchema>;
