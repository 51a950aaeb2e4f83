/** Issuing a key (admins): the key string is shown this once, with a copy button. */
import { api } from '../api.js';
import { h, mount } from '../dom.js';
import type { Key } from '../types.js';
import { keyLink, problem } from './common.js';

/** Renders the form that issues a key. */
export function renderNewKey(root: HTMLElement): void {
  const sub = h('input', { name: 'sub', required: true, placeholder: 'alice' });
  const role = h('select', { name: 'role' }, h('option', { value: 'user' }, 'user'), h('option', { value: 'admin' }, 'admin'));
  const rateLimit = h('input', { name: 'rateLimit', type: 'number', min: 1, value: 60, required: true });
  const days = h('input', { name: 'days', type: 'number', min: 1, value: 30, required: true });
  const name = h('input', { name: 'name', placeholder: 'optional label' });
  const result = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'card' },
    h('label', {}, 'Owner', sub),
    h('label', {}, 'Role', role),
    h('label', {}, 'Requests per minute', rateLimit),
    h('label', {}, 'Lifetime (days)', days),
    h('label', {}, 'Name', name),
    h('button', { type: 'submit' }, 'Issue key'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const created = await api<Key & { key: string }>('POST', '/admin/keys', {
        sub: sub.value.trim(),
        role: role.value,
        rateLimit: Number(rateLimit.value),
        ttl: Number(days.value) * 86_400,
        ...(name.value.trim() ? { name: name.value.trim() } : {}),
      });
      form.remove();
      result.replaceChildren(shownOnce(created));
    } catch (err) {
      result.replaceChildren(problem(err));
    }
  });
  mount(root, h('section', {}, h('div', { class: 'title' }, h('h1', {}, 'New key')), form, result));
}

function shownOnce(created: Key & { key: string }): HTMLElement {
  const secret = h('textarea', { readonly: true, rows: 6, class: 'secret', 'aria-label': 'the new key' });
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
    h('h2', {}, `Key issued for ${created.sub}`),
    h('p', { class: 'warn' }, 'Copy the key now: it is shown this once and never stored.'),
    secret,
    h('div', { class: 'actions' }, copy, copied),
    h('p', {}, 'Key id ', keyLink(created.id, created.id), '.'),
  );
}
