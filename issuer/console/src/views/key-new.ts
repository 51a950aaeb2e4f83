/**
 * Issuing a key (admins): owner, role, scopes, rate limits, credits, lifetime and name, sent as
 * the API takes them (what it refuses it names, and the form shows it). The key string is shown
 * this once, with a copy button.
 */
import { api } from '../api.js';
import { h, mount } from '../dom.js';
import type { CreatedKey } from '../types.js';
import { numberOf, problem } from './common.js';
import { limitsEditor } from './limits-editor.js';
import { shownOnce } from './shown-once.js';

/** The scopes typed in `input`, separated by spaces or commas. */
function scopesOf(input: HTMLInputElement): string[] {
  return input.value.split(/[\s,]+/).filter((s) => s !== '');
}

/** Renders the form that issues a key. */
export function renderNewKey(root: HTMLElement): void {
  const sub = h('input', { name: 'sub', required: true, placeholder: 'alice' });
  const role = h('select', { name: 'role' }, h('option', { value: 'user' }, 'user'), h('option', { value: 'admin' }, 'admin'));
  const scopes = h('input', { name: 'scopes', value: 'prices:read', placeholder: 'none' });
  const limits = limitsEditor([{ name: 'default', limit: 60, windowSeconds: 60 }]);
  const credits = h('input', { name: 'credits', type: 'number', placeholder: 'unlimited' });
  const refill = h(
    'select',
    { name: 'refill' },
    h('option', { value: '' }, 'never'),
    h('option', { value: 'day' }, 'to this each UTC day'),
    h('option', { value: 'month' }, 'to this each UTC month'),
  );
  const days = h('input', { name: 'days', type: 'number', min: 1, value: 30, required: true });
  const name = h('input', { name: 'name', placeholder: 'optional label' });
  const result = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'card new-key' },
    h('label', {}, 'Owner', sub),
    h('label', {}, 'Role', role),
    h('label', {}, 'Scopes (separated by spaces; empty: none)', scopes),
    limits.el,
    h('label', {}, 'Credits (requests in all; empty: unlimited)', credits),
    h('label', {}, 'Refill credits', refill),
    h('label', {}, 'Lifetime (days)', days),
    h('label', {}, 'Name', name),
    h('button', { type: 'submit' }, 'Issue key'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const remaining = numberOf(credits);
    try {
      const created = await api<CreatedKey>('POST', '/admin/keys', {
        sub: sub.value.trim(),
        role: role.value,
        scopes: scopesOf(scopes),
        limits: limits.value(),
        // A refill without credits is sent too, so that the API says what is missing.
        ...(remaining !== null || refill.value ? { credits: { remaining, ...(refill.value ? { refill: { amount: remaining, interval: refill.value } } : {}) } } : {}),
        ttl: Number(days.value) * 86_400,
        ...(name.value.trim() ? { name: name.value.trim() } : {}),
      });
      form.remove();
      result.replaceChildren(shownOnce(created, `Key issued for ${created.sub}`));
    } catch (err) {
      result.replaceChildren(problem(err));
    }
  });
  mount(root, h('section', {}, h('div', { class: 'title' }, h('h1', {}, 'New key')), form, result));
}
