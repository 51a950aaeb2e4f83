/**
 * A key's rate limits as rows of inputs (name, requests, window), sent to the API as `limits`:
 * what it refuses (a bad name, a window too long, two limits of one name) it names in its answer.
 */
import { h } from '../dom.js';
import type { RateLimit } from '../types.js';
import { numberOf } from './common.js';

/** Units of a window, largest first: seconds and the word. */
export const WINDOW_UNITS = [
  [86_400, 'day'],
  [3600, 'hour'],
  [60, 'minute'],
  [1, 'second'],
] as const;

/** The largest unit that measures `seconds` whole. */
export function unitOf(seconds: number): (typeof WINDOW_UNITS)[number] {
  return WINDOW_UNITS.find(([s]) => seconds % s === 0) ?? WINDOW_UNITS[3];
}

/** `limits` as the API takes them; a number left empty is null, which the API refuses by name. */
export type LimitsInput = Array<{ name: string; limit: number | null; windowSeconds: number | null }>;

interface Row {
  el: HTMLElement;
  name: HTMLInputElement;
  limit: HTMLInputElement;
  count: HTMLInputElement;
  unit: HTMLSelectElement;
  remove: HTMLButtonElement;
}

/** The editor, starting with `initial`; `value()` reads it as the API's `limits`. */
export function limitsEditor(initial: readonly RateLimit[]): { el: HTMLElement; value(): LimitsInput } {
  const rows: Row[] = [];
  const list = h('div', { class: 'limit-rows' });

  function relabel() {
    rows.forEach((row, i) => {
      const n = `Limit ${i + 1}`;
      row.name.setAttribute('aria-label', `${n} name`);
      row.limit.setAttribute('aria-label', `${n} requests`);
      row.count.setAttribute('aria-label', `${n} window`);
      row.unit.setAttribute('aria-label', `${n} window unit`);
      row.remove.setAttribute('aria-label', `Remove limit ${i + 1}`);
    });
  }

  function addRow(limit: RateLimit) {
    const [unit] = unitOf(limit.windowSeconds);
    const row: Row = {
      name: h('input', { value: limit.name, placeholder: 'name', class: 'limit-name' }),
      limit: h('input', { type: 'number', value: limit.limit, class: 'limit-count' }),
      count: h('input', { type: 'number', value: limit.windowSeconds / unit, class: 'limit-count' }),
      unit: h('select', {}, ...[...WINDOW_UNITS].reverse().map(([s, word]) => h('option', { value: s, selected: s === unit }, `${word}s`))),
      remove: h('button', { type: 'button', class: 'secondary small' }, '×'),
      el: h('div', { class: 'limit-row' }),
    };
    row.el.append(row.name, row.limit, 'per', row.count, row.unit, row.remove);
    row.remove.addEventListener('click', () => {
      rows.splice(rows.indexOf(row), 1);
      row.el.remove();
      relabel();
    });
    rows.push(row);
    list.append(row.el);
    relabel();
  }

  for (const limit of initial) addRow(limit);
  const add = h('button', { type: 'button', class: 'secondary small' }, 'Add a limit');
  add.addEventListener('click', () => addRow({ name: '', limit: 1000, windowSeconds: 86_400 }));
  return {
    el: h('fieldset', { class: 'limits' }, h('legend', {}, 'Rate limits (a request is served only if all allow it)'), list, add),
    value: () =>
      rows.map((row) => {
        const count = numberOf(row.count);
        return { name: row.name.value.trim(), limit: numberOf(row.limit), windowSeconds: count === null ? null : count * Number(row.unit.value) };
      }),
  };
}
