/**
 * The one paging convention of the issuer's lists: a page answers `{ items, nextCursor }`
 * (`null` on the last page) and the next page is asked for with `?cursor=<nextCursor>`. A cursor
 * is opaque to clients (base64url of a list position); a value that is not one of this API's
 * cursors is 400 `validation_failed` naming `cursor`.
 */
import { z } from 'zod';

/** The opaque cursor of a list position, or null when there is no next page. */
export function encodeCursor(position: string | number | undefined): string | null {
  return position === undefined ? null : Buffer.from(String(position)).toString('base64url');
}

/**
 * A `cursor` query parameter, read back as a position by `read` (undefined when the decoded text
 * is not a position of that list).
 */
export function cursorParam<T>(read: (decoded: string) => T | undefined) {
  return z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, 'not a cursor from this API')
    .transform((cursor, ctx) => {
      const position = read(Buffer.from(cursor, 'base64url').toString('utf8'));
      if (position === undefined) ctx.addIssue({ code: 'custom', message: 'not a cursor from this API' });
      return position ?? z.NEVER;
    });
}
