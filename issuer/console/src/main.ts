/**
 * The akm console: a small single-page app on the issuer's public REST API, with the same
 * sign-in. Pages are chosen by the URL's fragment (`#/keys`, `#/keys/<id>`, `#/top`, `#/users`),
 * so the issuer serves one page and its assets.
 */
import './style.css';
import { api, whenSignedOut } from './api.js';
import { h, mount } from './dom.js';
import { clearSession, currentSession, type Session } from './session.js';
import { renderKeyDetail } from './views/key-detail.js';
import { renderNewKey } from './views/key-new.js';
import { renderKeys } from './views/keys.js';
import { renderLogin } from './views/login.js';
import { renderTop } from './views/top.js';
import { renderUsers } from './views/users.js';

const app = document.getElementById('app')!;
let leave: (() => void) | undefined;
let signedOutMessage: string | undefined;

function header(session: Session): HTMLElement {
  const admin = session.role === 'admin';
  const here = location.hash || '#/keys';
  const link = (href: string, text: string) =>
    h('a', { href, ...(here === href || (href !== '#/keys' && here.startsWith(href)) ? { 'aria-current': 'page' } : {}) }, text);
  const signOut = h('button', { type: 'button', class: 'secondary small' }, 'Sign out');
  signOut.addEventListener('click', () => {
    // Ended at the issuer (refused from now on, wherever a copy of it went), then forgotten here
    // whatever the answer.
    void api('POST', '/auth/logout')
      .catch(() => undefined)
      .finally(() => {
        clearSession();
        location.hash = '#/login';
        route();
      });
  });
  return h(
    'header',
    {},
    h('a', { href: '#/keys', class: 'brand' }, 'akm'),
    h('nav', {}, link('#/keys', admin ? 'Keys' : 'My keys'), link('#/top', 'Busiest keys'), admin ? link('#/users', 'Users') : null),
    h('div', { class: 'who' }, h('span', {}, `${session.username} (${session.role})`), signOut),
  );
}

function route(): void {
  leave?.();
  leave = undefined;
  const session = currentSession();
  const path = (location.hash || '#/keys').slice(1);
  if (!session || path === '/login') {
    const message = signedOutMessage;
    signedOutMessage = undefined;
    renderLogin(app, message, () => {
      location.hash = '#/keys';
      route();
    });
    return;
  }
  const main = h('main', {});
  mount(app, header(session), main);
  const admin = session.role === 'admin';
  const keyPage = /^\/keys\/([^/]+)$/.exec(path);
  if (path === '/keys/new' && admin) renderNewKey(main);
  else if (keyPage) leave = renderKeyDetail(main, session, decodeURIComponent(keyPage[1]!));
  else if (path === '/top') renderTop(main, session);
  else if (path === '/users' && admin) renderUsers(main, session);
  else renderKeys(main, session);
}

whenSignedOut((reason) => {
  signedOutMessage = reason;
  location.hash = '#/login';
  route();
});
window.addEventListener('hashchange', route);
route();
