/**
 * The sign-in of this browser tab: the issuer's sign-in token (never an API key), kept in
 * sessionStorage so it ends with the tab, and never written anywhere else.
 */

/** Who is signed in. */
export interface Session {
  token: string;
  username: string;
  role: 'admin' | 'user';
  /** ISO 8601. */
  expiresAt: string;
}

const KEY = 'akm.session';

/** The current sign-in, if it has not expired. */
export function currentSession(): Session | undefined {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return undefined;
  const session = JSON.parse(raw) as Session;
  if (Date.parse(session.expiresAt) <= Date.now()) {
    sessionStorage.removeItem(KEY);
    return undefined;
  }
  return session;
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}
