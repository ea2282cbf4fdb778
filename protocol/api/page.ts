import { z } from 'zod';

/** `{ items, nextCursor }`: every list pages the same way; `nextCursor` is null on the last page. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

/** One page of a list; pass `nextCursor` as `cursor` to fetch the next one. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
