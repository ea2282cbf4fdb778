import { and, asc, eq, gt, or, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { z } from './openapi.ts';
import { ApiError } from './problem.ts';

/** Default and largest page of a list, in rows. */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 500;

/** The `limit` and `cursor` query parameters every list takes. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: z.string().max(200).optional().openapi({ description: 'nextCursor of the previous page' }),
});

/** Where a page ended: the last row's creation time and id (ids break ties within a millisecond). */
interface Cursor {
  createdAt: number;
  id: string;
}

function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([row.createdAt.getTime(), row.id])).toString('base64url');
}

function decodeCursor(cursor: string): Cursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') {
      return { createdAt: value[0], id: value[1] };
    }
  } catch {
    // falls through to the refusal
  }
  throw new ApiError(400, 'VALIDATION_FAILED', 'cursor: use the nextCursor of a previous page');
}

/** The columns a list is ordered by: oldest first, ties broken by id. */
export interface PageColumns {
  createdAt: SQLiteColumn;
  id: SQLiteColumn;
}

/**
 * Builds the keyset condition and ordering for one page. Fetch `limit + 1` rows with them and hand
 * the rows to {@link pageOf}.
 *
 * @example
 * const keyset = pageKeyset(operators, query);
 * const rows = await db.select().from(operators).where(and(scope, keyset.where))
 *   .orderBy(...keyset.orderBy).limit(keyset.fetch);
 * return c.json(pageOf(rows, query.limit, operatorView), 200);
 */
export function pageKeyset(
  columns: PageColumns,
  query: { limit: number; cursor?: string | undefined },
): { where: SQL | undefined; orderBy: SQL[]; fetch: number } {
  const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const createdAt = cursor ? new Date(cursor.createdAt) : undefined;
  return {
    where:
      cursor && createdAt
        ? or(
            gt(columns.createdAt, createdAt),
            and(eq(columns.createdAt, createdAt), gt(columns.id, cursor.id)),
          )
        : undefined,
    orderBy: [asc(columns.createdAt), asc(columns.id)],
    fetch: query.limit + 1,
  };
}

/** `{ items, nextCursor }` from the `limit + 1` rows fetched with {@link pageKeyset}. */
export function pageOf<Row extends { createdAt: Date; id: string }, Item>(
  rows: Row[],
  limit: number,
  view: (row: Row) => Item,
): { items: Item[]; nextCursor: string | null } {
  const kept = rows.slice(0, limit);
  const last = kept.at(-1);
  return { items: kept.map(view), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
