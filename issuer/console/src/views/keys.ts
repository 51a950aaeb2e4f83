/**
 * The list of keys: every key for an admin (filtered by owner and status, page by page), a
 * user's own keys for a user.
 */
import { api, query } from '../api.js';
import { h, mount, when } from '../dom.js';
import type { Session } from '../session.js';
import type { Key, Page } from '../types.js';
import { badge, keyLink, problem, table } from './common.js';

const PAGE = 20;

/** Renders the key list. */
export function renderKeys(root: HTMLElement, session: Session): void {
  const admin = session.role === 'admin';
  const sub = h('input', { name: 'sub', placeholder: 'any owner' });
  const status = h('select', { name: 'status' }, ...['', 'active', 'disabled', 'revoked', 'expired'].map((v) => h('option', { value: v }, v || 'any status')));
  const list = h('div', { class: 'list' });
  const prev = h('button', { type: 'button', class: 'secondary', disabled: true }, '← Previous');
  const next = h('button', { type: 'button', class: 'secondary', disabled: true }, 'Next →');
  // Cursor of each page shown so far: the API pages forward only.
  let cursors: Array<string | undefined> = [undefined];

  async function load() {
    const cursor = cursors[cursors.length - 1];
    try {
      const page = admin
        ? await api<Page<Key>>('GET', `/admin/keys${query({ sub: sub.value.trim(), status: status.value, limit: PAGE, cursor })}`)
        : await api<Page<Key>>('GET', `/me/keys${query({ limit: PAGE, cursor })}`);
      list.replaceChildren(
        table(
          ['Key', 'Name', ...(admin ? ['Owner'] : []), 'Role', 'Status', 'Limit / min', 'Expires'],
          page.items.map((k) => [
            keyLink(k.id),
            k.name ?? '-',
            ...(admin ? [k.sub] : []),
            k.role,
            badge(k.status),
            String(k.rateLimit),
            when(k.expiresAt),
          ]),
          admin ? 'No key matches.' : 'You have no keys yet: an admin issues them.',
        ),
      );
      prev.disabled = cursors.length <= 1;
      next.disabled = page.nextCursor === null;
      next.onclick = () => {
        cursors.push(page.nextCursor ?? undefined);
        void load();
      };
    } catch (err) {
      list.replaceChildren(problem(err));
    }
  }
  prev.onclick = () => {
    cursors.pop();
    void load();
  };

  const filters = h(
    'form',
    { class: 'filters' },
    h('label', {}, 'Owner', sub),
    h('label', {}, 'Status', status),
    h('button', { type: 'submit' }, 'Filter'),
  );
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    cursors = [undefined];
    void load();
  });

  mount(
    root,
    h(
      'section',
      {},
      h('div', { class: 'title' }, h('h1', {}, admin ? 'Keys' : 'My keys'), admin ? h('a', { href: '#/keys/new', class: 'button' }, 'New key') : null),
      admin ? filters : null,
      list,
      h('div', { class: 'pager' }, prev, next),
    ),
  );
  void load();
}
