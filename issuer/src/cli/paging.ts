/**
 * Paged lists for the CLI: one page (from `--cursor`) or every page (`--all`), and a line on
 * stderr that says when there are more and the exact command that fetches the next one, so a
 * list that stops at one page never looks complete.
 */

/** Options of a paged list command. */
export interface PageOptions {
  limit: number;
  cursor?: string;
  all?: boolean;
}

/** One page of a list, as every list of the issuer answers it. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * One page from `options.cursor` or (with `all`) every page from there, fetched with
 * `fetchPage(cursor)`; answers the items and the cursor of the page after them.
 */
export async function fetchPages<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>, options: PageOptions): Promise<Page<T>> {
  const items: T[] = [];
  let cursor: string | undefined = options.cursor;
  for (;;) {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    if (!options.all || !page.nextCursor) return { items, nextCursor: page.nextCursor };
    cursor = page.nextCursor;
  }
}

/**
 * Tells on stderr (so that `--json` output stays parseable) that more pages follow, with the
 * command that fetches the next one: `command` and its arguments as the user gave them.
 */
export function noteMorePages(nextCursor: string | null, command: string[]): void {
  if (!nextCursor) return;
  const args: string[] = [];
  for (let i = 0; i < command.length; i++) {
    if (command[i] === '--cursor') i++;
    else if (!command[i]!.startsWith('--cursor=')) args.push(command[i]!);
  }
  process.stderr.write(`more on the next page: akm ${[...args, '--cursor', nextCursor].join(' ')}   (or --all for every page)\n`);
}
