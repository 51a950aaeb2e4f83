/** Managing users (admins): list page by page, create, change role, disable or enable, set a password, delete. */
import { api, query } from '../api.js';
import { confirmAction, h, mount, when } from '../dom.js';
import type { Session } from '../session.js';
import type { Page, User } from '../types.js';
import { badge, notice, problem, table } from './common.js';

const PAGE = 20;

/** Renders the users page. */
export function renderUsers(root: HTMLElement, session: Session): void {
  const list = h('div', {});
  const messages = notice();
  const prev = h('button', { type: 'button', class: 'secondary', disabled: true }, '← Previous');
  const next = h('button', { type: 'button', class: 'secondary', disabled: true }, 'Next →');
  let cursors: Array<string | undefined> = [undefined];

  async function change(label: string, run: () => Promise<unknown>) {
    try {
      await run();
      messages.show(label);
      await load();
    } catch (err) {
      messages.show(problem(err));
    }
  }

  function rowActions(user: User): HTMLElement {
    const path = `/admin/users/${encodeURIComponent(user.username)}`;
    const self = user.username === session.username;
    const role = user.role === 'admin' ? 'user' : 'admin';
    return h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'secondary small', onclick: () => void change(`${user.username} is now ${role === 'admin' ? 'an admin' : 'a user'}.`, () => api('PATCH', path, { role })) }, role === 'admin' ? 'Make admin' : 'Make user'),
      user.status === 'active'
        ? h(
            'button',
            {
              type: 'button',
              class: 'secondary small',
              disabled: self,
              onclick: async () => {
                if (await confirmAction(`Disable ${user.username}? Their sign-ins stop and all their keys are disabled.`, 'Disable')) {
                  void change(`${user.username} disabled.`, () => api('PATCH', path, { status: 'disabled' }));
                }
              },
            },
            'Disable',
          )
        : h('button', { type: 'button', class: 'secondary small', onclick: () => void change(`${user.username} enabled.`, () => api('PATCH', path, { status: 'active' })) }, 'Enable'),
      h('button', { type: 'button', class: 'secondary small', onclick: () => void setPassword(user.username) }, 'Set password'),
      h(
        'button',
        {
          type: 'button',
          class: 'danger small',
          disabled: self,
          onclick: async () => {
            if (await confirmAction(`Delete ${user.username}? All their keys are revoked for good.`, 'Delete')) {
              void change(`${user.username} deleted.`, () => api('DELETE', path));
            }
          },
        },
        'Delete',
      ),
    );
  }

  function setPassword(username: string) {
    const input = h('input', { type: 'password', minlength: 12, required: true, autocomplete: 'new-password', 'aria-label': 'new password' });
    const dialog = h(
      'dialog',
      { class: 'confirm' },
      h('form', { method: 'dialog' }, h('label', {}, `New password for ${username} (at least 12 characters)`, input), h('div', { class: 'actions' }, h('button', { value: 'cancel', class: 'secondary', formnovalidate: true }, 'Cancel'), h('button', { value: 'set' }, 'Set password'))),
    );
    dialog.addEventListener('close', () => {
      if (dialog.returnValue === 'set') void change(`Password of ${username} changed.`, () => api('PATCH', `/admin/users/${encodeURIComponent(username)}`, { password: input.value }));
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  }

  async function load() {
    try {
      const page = await api<Page<User>>('GET', `/admin/users${query({ limit: PAGE, cursor: cursors[cursors.length - 1] })}`);
      list.replaceChildren(
        table(
          ['User', 'Role', 'Status', 'Created', ''],
          page.items.map((u) => [h('span', { class: 'mono' }, u.username), u.role, badge(u.status), when(u.createdAt), rowActions(u)]),
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

  const username = h('input', { name: 'username', required: true, placeholder: 'bob', pattern: '[a-z0-9][a-z0-9._\\-]*' });
  const password = h('input', { name: 'password', type: 'password', minlength: 12, required: true, autocomplete: 'new-password' });
  const role = h('select', { name: 'role' }, h('option', { value: 'user' }, 'user'), h('option', { value: 'admin' }, 'admin'));
  const create = h('form', { class: 'inline card' }, h('label', {}, 'User name', username), h('label', {}, 'Password', password), h('label', {}, 'Role', role), h('button', { type: 'submit' }, 'Create user'));
  create.addEventListener('submit', (e) => {
    e.preventDefault();
    void change(`Created ${username.value}.`, async () => {
      await api('POST', '/admin/users', { username: username.value.trim(), password: password.value, role: role.value });
      create.reset();
      cursors = [undefined];
    });
  });

  mount(root, h('section', {}, h('div', { class: 'title' }, h('h1', {}, 'Users')), messages.el, create, list, h('div', { class: 'pager' }, prev, next)));
  void load();
}
