/** The busiest keys of a window, or the most refused over their limit (a user: among their own). */
import { api, query } from '../api.js';
import { h, mount } from '../dom.js';
import type { Session } from '../session.js';
import type { TopUsage } from '../types.js';
import { badge, keyLink, problem, table } from './common.js';

/** Renders the busiest keys. */
export function renderTop(root: HTMLElement, session: Session): void {
  const by = h('select', { name: 'by' }, h('option', { value: 'served' }, 'most served'), h('option', { value: 'rate_limited' }, 'most over their limit'));
  const windowSelect = h('select', { name: 'window' }, ...['1h', '24h', '7d', '30d'].map((w) => h('option', { value: w, selected: w === '24h' }, w)));
  const list = h('div', {});
  const path = session.role === 'admin' ? '/admin/usage/top' : '/me/usage/top';

  async function load() {
    try {
      const top = await api<TopUsage>('GET', `${path}${query({ by: by.value, window: windowSelect.value, limit: 20 })}`);
      list.replaceChildren(
        table(
          ['Key', 'Name', 'Owner', 'Status', 'Served', 'Over the limit', 'Forbidden', 'Refused (revoked, disabled, expired)'],
          top.items.map((k) => [
            keyLink(k.id),
            k.name ?? '-',
            k.sub,
            badge(k.status),
            String(k.served),
            String(k.rate_limited),
            String(k.forbidden),
            String(k.revoked + k.disabled + k.expired),
          ]),
          'No requests in this window.',
        ),
      );
    } catch (err) {
      list.replaceChildren(problem(err));
    }
  }
  const form = h('form', { class: 'filters' }, h('label', {}, 'Rank', by), h('label', {}, 'Window', windowSelect));
  form.addEventListener('change', () => void load());
  mount(root, h('section', {}, h('div', { class: 'title' }, h('h1', {}, 'Busiest keys')), form, list));
  void load();
}
