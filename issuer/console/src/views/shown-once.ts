/**
 * A key string shown this once (after issuing or rolling a key), with a copy button. The string
 * lives only in this element: never in storage, the URL or the browser's console.
 */
import { h } from '../dom.js';
import type { CreatedKey } from '../types.js';
import { keyLink } from './common.js';

/** The card that shows `created.key` once, under `title`, with `notes` below it. */
export function shownOnce(created: CreatedKey, title: string, ...notes: HTMLElement[]): HTMLElement {
  const secret = h('textarea', { readonly: true, rows: 9, class: 'secret', 'aria-label': 'the new key' });
  secret.value = created.key;
  const copied = h('span', { class: 'muted', 'aria-live': 'polite' });
  const copy = h('button', { type: 'button' }, 'Copy');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(secret.value);
    } catch {
      secret.select();
      document.execCommand('copy');
    }
    copied.textContent = 'Copied.';
  });
  return h(
    'div',
    { class: 'card created' },
    h('h2', {}, title),
    h('p', { class: 'warn' }, 'Copy the key now: it is shown this once and never stored.'),
    secret,
    h('div', { class: 'actions' }, copy, copied),
    h('p', {}, 'Key id ', keyLink(created.id, created.id), '.'),
    ...notes,
  );
}
