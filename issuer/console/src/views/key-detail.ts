/**
 * One key: its facts (scopes, limits, credits, roll), what its owner may do with it (an admin:
 * edit limits and expiry, roll, disable, enable, revoke; a user: roll, disable), its usage as a
 * chart that follows new requests, and its events.
 */
import { api, query } from '../api.js';
import { confirmAction, h, mount, when } from '../dom.js';
import type { Session } from '../session.js';
import { usageChart } from '../chart.js';
import { OUTCOMES, OUTCOME_LABELS, type Key, type KeyEventView, type Page, type Usage } from '../types.js';
import { badge, notice, problem, table } from './common.js';
import { creditsLeft, keyFacts } from './key-facts.js';
import { rollButton } from './key-roll.js';
import { limitsEditor } from './limits-editor.js';

const RANGES = [
  { label: 'Last hour', seconds: 3600, granularity: 'minute' },
  { label: '24 hours', seconds: 86_400, granularity: 'hour' },
  { label: '7 days', seconds: 7 * 86_400, granularity: 'hour' },
  { label: '30 days', seconds: 30 * 86_400, granularity: 'day' },
] as const;

/** `datetime-local` value of an ISO date, in the reader's time zone. */
function localInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Renders a key's page; returns what stops its refreshing. */
export function renderKeyDetail(root: HTMLElement, session: Session, id: string): () => void {
  const admin = session.role === 'admin';
  const base = admin ? `/admin/keys/${encodeURIComponent(id)}` : `/me/keys/${encodeURIComponent(id)}`;
  const info = h('div', { class: 'card' }, h('p', { class: 'muted' }, 'Loading…'));
  const actions = h('div', { class: 'card' });
  const messages = notice();
  const chart = h('div', { class: 'chart-box' });
  const totals = h('div', {});
  const events = h('div', { class: 'events' });
  const left = h('span', { 'data-credits-left': '' });
  let current: Key | undefined;
  let range: (typeof RANGES)[number] = RANGES[0];
  let timer: number | undefined;

  const rangeButtons = RANGES.map((r) => {
    const b = h('button', { type: 'button', class: 'secondary', 'aria-pressed': r === range ? 'true' : 'false' }, r.label);
    b.addEventListener('click', () => {
      range = r;
      for (const other of rangeButtons) other.setAttribute('aria-pressed', other === b ? 'true' : 'false');
      void loadUsage();
    });
    return b;
  });

  /** Loads the key; undefined (and the page says why) when it cannot be shown. */
  async function loadKey(): Promise<Key | undefined> {
    try {
      const key = await api<Key>('GET', base);
      current = key;
      info.replaceChildren(h('h2', {}, key.name ?? 'Key'), keyFacts(key, left));
      actions.replaceChildren(...(admin ? adminActions(key) : userActions(key)));
      return key;
    } catch (err) {
      stop();
      mount(root, h('section', {}, h('div', { class: 'title' }, h('h1', {}, 'Key'), h('a', { href: '#/keys' }, '← All keys')), problem(err)));
      return undefined;
    }
  }

  /** Draws the key and its events again; answers the key. */
  async function refresh(): Promise<Key | undefined> {
    const [key] = await Promise.all([loadKey(), loadEvents()]);
    return key;
  }

  async function change(label: string, run: () => Promise<unknown>) {
    try {
      await run();
      messages.show(label);
      await refresh();
    } catch (err) {
      messages.show(problem(err));
    }
  }

  /** Roll, for an active key not rolled yet (the API refuses any other). */
  function roll(key: Key): HTMLElement | null {
    return key.rolledTo === null && key.status === 'active' ? rollButton(base, messages, refresh) : null;
  }

  function adminActions(key: Key): HTMLElement[] {
    if (key.status === 'revoked') return [h('p', { class: 'muted' }, 'This key is revoked for good.')];
    // Every limit, edited as a whole: a PATCH of `limits` replaces them all.
    const limits = limitsEditor(key.limits);
    const expires = h('input', { name: 'expiresAt', type: 'datetime-local', value: localInput(key.expiresAt), required: true });
    const edit = h('form', { class: 'edit-key' }, limits.el, h('label', {}, 'Expires', expires), h('button', { type: 'submit' }, 'Save'));
    edit.addEventListener('submit', (e) => {
      e.preventDefault();
      void change('Saved: every verifier applies it at once.', () =>
        api('PATCH', base, { limits: limits.value(), expiresAt: new Date(expires.value).toISOString() }),
      );
    });
    const toggle =
      key.status === 'disabled'
        ? h('button', { type: 'button', class: 'secondary', onclick: () => void change('Enabled.', () => api('PATCH', base, { status: 'active' })) }, 'Enable')
        : h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              onclick: async () => {
                if (await confirmAction('Disable this key? Every verifier refuses it until it is enabled again.', 'Disable')) {
                  void change('Disabled.', () => api('PATCH', base, { status: 'disabled' }));
                }
              },
            },
            'Disable',
          );
    const revoke = h(
      'button',
      {
        type: 'button',
        class: 'danger',
        onclick: async () => {
          if (await confirmAction('Revoke this key for good? Every verifier refuses it within moments, and it cannot be undone.', 'Revoke')) {
            void change('Revoked.', () => api('DELETE', base));
          }
        },
      },
      'Revoke',
    );
    return [h('h2', {}, 'Change'), edit, h('div', { class: 'actions' }, roll(key), toggle, revoke)];
  }

  function userActions(key: Key): HTMLElement[] {
    if (key.status !== 'active') return [h('p', { class: 'muted' }, 'Ask an admin to change this key.')];
    const disable = h(
      'button',
      {
        type: 'button',
        class: 'danger',
        onclick: async () => {
          if (await confirmAction('Disable this key? Only an admin can enable it again.', 'Disable')) {
            void change('Disabled.', () => api('POST', `${base}/disable`));
          }
        },
      },
      'Disable',
    );
    return [h('h2', {}, 'Change'), h('div', { class: 'actions' }, roll(key), disable)];
  }

  async function loadUsage() {
    if (current?.credits) {
      const credits = current.credits;
      void creditsLeft(base, credits).then(
        (n) => (left.textContent = `about ${n} left (granted less the requests served since, as reported)`),
        () => (left.textContent = 'what is left: on a verifier'),
      );
    }
    try {
      const from = new Date(Date.now() - range.seconds * 1000).toISOString();
      const usage = await api<Usage>('GET', `${base}/usage${query({ from, granularity: range.granularity })}`);
      chart.replaceChildren(usageChart(usage));
      const all = OUTCOMES.reduce((n, o) => n + usage.totals[o], 0);
      totals.replaceChildren(
        h(
          'table',
          { class: 'totals' },
          h('thead', {}, h('tr', {}, ...OUTCOMES.map((o) => h('th', { scope: 'col' }, OUTCOME_LABELS[o])), h('th', { scope: 'col' }, 'all'))),
          h('tbody', {}, h('tr', {}, ...OUTCOMES.map((o) => h('td', { 'data-outcome': o }, String(usage.totals[o]))), h('td', { 'data-outcome': 'all' }, String(all)))),
        ),
      );
    } catch (err) {
      chart.replaceChildren(problem(err));
    }
  }

  async function loadEvents() {
    try {
      const page = await api<Page<KeyEventView>>('GET', `${base}/events${query({ limit: 50 })}`);
      events.replaceChildren(
        table(
          ['When', 'Event', 'Status', 'Limit / min', 'Expires', 'Request'],
          page.items.map((e) => [when(e.at), e.type, badge(e.status), String(e.rateLimit), when(e.expiresAt), h('span', { class: 'mono muted' }, e.requestId ?? '-')]),
          'No events.',
        ),
      );
    } catch (err) {
      events.replaceChildren(problem(err));
    }
  }

  function stop() {
    if (timer !== undefined) window.clearInterval(timer);
    timer = undefined;
  }

  mount(
    root,
    h(
      'section',
      {},
      h('div', { class: 'title' }, h('h1', {}, 'Key'), h('a', { href: '#/keys' }, '← All keys')),
      messages.el,
      h('div', { class: 'columns' }, info, actions),
      h('div', { class: 'card' }, h('div', { class: 'title' }, h('h2', {}, 'Usage'), h('div', { class: 'segmented' }, ...rangeButtons)), chart, totals),
      h('div', { class: 'card' }, h('h2', {}, 'Events'), events),
    ),
  );
  let gone = false;
  void loadKey().then((shown) => {
    if (!shown || gone) return;
    void loadUsage();
    void loadEvents();
    // Verifiers report every few seconds: follow them while the page is open.
    timer = window.setInterval(() => void loadUsage(), 5000);
  });
  return () => {
    gone = true;
    stop();
  };
}
