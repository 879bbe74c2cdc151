import { Type, type Static } from '@sinclair/typebox';
import { HooklineError } from '../errors.js';

/** Query fields every list accepts. */
export const PageQuery = {
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'Items per page (1–500).' }),
  ),
  cursor: Type.Optional(
    Type.String({ maxLength: 512, description: 'next_cursor of the previous page.' }),
  ),
};

/** The envelope of every list: `{data, next_cursor}`. */
export function PageOf<T extends ReturnType<typeof Type.Object>>(item: T) {
  return Type.Object({
    data: Type.Array(item),
    next_cursor: Type.Union([Type.String(), Type.Null()]),
  });
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** Cursors are opaque to clients: base64url of the sort key of the last item. */
export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!key || encodeCursor(key) !== cursor) {
    throw new HooklineError('VALIDATION_FAILED', 'cursor: is not a cursor this API returned', {
      details: [{ field: 'cursor', message: 'is not a cursor this API returned' }],
    });
  }
  return key;
}

/**
 * Builds a page from rows fetched with `LIMIT limit + 1`: the extra row only
 * tells whether there is a next page.
 */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  keyOf: (row: R) => string,
  map: (row: R) => T,
): Page<T> {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  return {
    data: pageRows.map(map),
    next_cursor: more ? encodeCursor(keyOf(pageRows[pageRows.length - 1])) : null,
  };
}

export type PageQueryType = Static<ReturnType<typeof Type.Object<typeof PageQuery>>>;
