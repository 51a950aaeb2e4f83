/** Pieces every page uses: status badges, tables, messages. */
import { ApiError } from '../api.js';
import { h } from '../dom.js';

/** A key's or user's status as a coloured badge. */
export function badge(status: string): HTMLElement {
  return h('span', { class: `badge s-${status}` }, status);
}

/** A table with a header row; `rows` are lists of cells. */
export function table(headers: string[], rows: Array<Array<Node | string>>, empty = 'Nothing here yet.'): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((c) => h('td', {}, c))))),
  );
}

/** A message saying what went wrong, in the API's own words. */
export function problem(err: unknown): HTMLElement {
  const text = err instanceof ApiError ? `${err.message} (${err.code})` : err instanceof Error ? err.message : String(err);
  return h('p', { class: 'error', role: 'alert' }, text);
}

/** A page's place for messages. */
export interface Notice {
  el: HTMLElement;
  show(content: HTMLElement | string): void;
  clear(): void;
}

/** A place for a page's messages. */
export function notice(): Notice {
  const el = h('div', { class: 'notice', 'aria-live': 'polite' });
  return {
    el,
    show(content) {
      el.replaceChildren(typeof content === 'string' ? h('p', { class: 'ok' }, content) : content);
    },
    clear() {
      el.replaceChildren();
    },
  };
}

/** A link to a key's page. */
export function keyLink(id: string, text = id.slice(0, 8)): HTMLElement {
  return h('a', { href: `#/keys/${encodeURIComponent(id)}`, class: 'mono', title: id }, text);
}

/**
 * The number in `input`, or null when it is empty: sent as is, so the API names what is wrong
 * with it (the console checks no input of its own).
 */
export function numberOf(input: HTMLInputElement): number | null {
  return input.value.trim() === '' ? null : Number(input.value);
}
