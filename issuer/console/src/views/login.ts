/** The sign-in page: the same sign-in as the API (`POST /auth/login`). */
import { api } from '../api.js';
import { h, mount } from '../dom.js';
import { saveSession, type Session } from '../session.js';
import { problem } from './common.js';

/** Renders the sign-in form; `done` runs once signed in. */
export function renderLogin(root: HTMLElement, message: string | undefined, done: () => void): void {
  const status = h('div', { 'aria-live': 'polite' }, message ? h('p', { class: 'error' }, message) : null);
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h(
    'form',
    { class: 'card login' },
    h('h1', {}, 'akm console'),
    h('p', { class: 'muted' }, 'Sign in with your akm user.'),
    h('label', {}, 'User name', username),
    h('label', {}, 'Password', password),
    status,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const answer = await api<Session & { tokenType: string }>('POST', '/auth/login', { username: username.value, password: password.value });
      saveSession({ token: answer.token, username: answer.username, role: answer.role, expiresAt: answer.expiresAt });
      password.value = '';
      done();
    } catch (err) {
      status.replaceChildren(problem(err));
    }
  });
  mount(root, h('main', { class: 'center' }, form));
}
