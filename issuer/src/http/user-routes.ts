/**
 * Sign-in (`POST /auth/login`), user management for admins (`/admin/users`) and a user's own
 * view (`/me`, `/me/keys`).
 */
import { Router, type Request, type RequestHandler } from 'express';
import { AppError, parseInput, requestIdOf } from '@akm/common';
import type { EndedSessions } from '../domain/ended-sessions.js';
import type { KeyService } from '../domain/key-service.js';
import type { LoginGuard } from '../domain/login-guard.js';
import { mintSessionToken } from '../domain/session-tokens.js';
import type { SigningKeys } from '../domain/signing-keys.js';
import type { UserRecord } from '../domain/user-record.js';
import type { UserService } from '../domain/user-service.js';
import { principalOf } from './auth.js';
import { failWith } from './failures.js';
import { encodeCursor } from './cursors.js';
import { myKeysQuery, ownKeyBody, rollKeyBody, toSeconds } from './key-schemas.js';
import { keyView } from './key-view.js';
import { callerUserId, ownKeyOf } from './own-keys.js';
import { changePasswordBody, createUserBody, listUsersQuery, loginBody, logoutBody, updateUserBody } from './user-schemas.js';
import { userView } from './user-views.js';

/** Options of {@link createUserRoutes}. */
export interface UserRoutesOptions {
  users: UserService;
  keys: KeyService;
  guard: LoginGuard;
  /** Sign-in tokens ended by signing out. */
  endedSessions: EndedSessions;
  signing: SigningKeys;
  issuer: string;
  sessionTtlSeconds: number;
  requireAdmin: RequestHandler;
  requireSession: RequestHandler;
  now: () => number;
}

/** Creates the router of sign-in, users and self-service. */
export function createUserRoutes(options: UserRoutesOptions): Router {
  const { users, keys, guard, requireAdmin, requireSession, now } = options;
  const router = Router();

  /** A new sign-in token for `user`, answered as `POST /auth/login` answers it. */
  async function signedIn(user: UserRecord) {
    const { token, expiresAt } = await mintSessionToken({
      signing: options.signing,
      issuer: options.issuer,
      sub: user.username,
      role: user.role,
      ttlSeconds: options.sessionTtlSeconds,
      sessionEpoch: user.sessionEpoch,
      now: now(),
    });
    return { token, tokenType: 'Bearer', expiresAt: new Date(expiresAt * 1000).toISOString(), username: user.username, role: user.role };
  }

  /**
   * Counts a password attempt of `username` against the sign-in limits (429 past them); call
   * `guard.succeeded` with the answer once the password was right.
   */
  async function guarded(username: string, req: Request) {
    // The client's address as `trust proxy` (AKM_TRUST_PROXY) reads it; the socket's without a proxy.
    const allowed = await guard.begin(username, req.ip ?? 'unknown');
    if (!allowed.ok) {
      throw new AppError('too_many_attempts', 'too many failed sign-ins; try again later', {
        headers: { 'Retry-After': String(allowed.retryAfterSeconds) },
      });
    }
    return allowed.attempt;
  }

  router.post('/auth/login', async (req, res) => {
    const { username, password } = parseInput(loginBody, req.body, 'sign-in');
    const attempt = await guarded(username, req);
    const user = await users.authenticate(username, password);
    if (!user) {
      req.log.info({ username, outcome: 'refused' }, 'sign-in refused');
      throw new AppError('invalid_credentials', 'wrong user name or password');
    }
    await guard.succeeded(attempt);
    const answer = await signedIn(user);
    req.log.info({ username, outcome: 'signed_in' }, 'signed in');
    res.json(answer);
  });

  // Signing out ends this sign-in token now (it is refused from then on, until it would have
  // expired anyway); with {"everywhere": true}, every sign-in of the user.
  router.post('/auth/logout', requireSession, async (req, res) => {
    const { everywhere } = parseInput(logoutBody, req.body ?? {}, 'sign-out');
    const principal = principalOf(res);
    if (everywhere) {
      const result = await users.endAllSessions(principal.sub);
      if (!result.ok) throw new AppError('conflict', 'this sign-in belongs to no user (akm admin-token): only it can be ended, without "everywhere"');
    } else if (principal.session) {
      await options.endedSessions.end(principal.session.jti, principal.session.expiresAt, Math.floor(now() / 1000));
    }
    req.log.info({ username: principal.sub, everywhere, outcome: 'signed_out' }, 'signed out');
    res.status(204).end();
  });

  // A user changes their own password with the current one. It ends every earlier sign-in, this
  // one included, so the answer is a new sign-in token. Wrong current passwords count against
  // the sign-in limits, like wrong passwords at sign-in.
  router.post('/me/password', requireSession, async (req, res) => {
    const body = parseInput(changePasswordBody, req.body, 'password change');
    const username = principalOf(res).sub;
    const attempt = await guarded(username, req);
    const result = await users.changePassword(username, body.currentPassword, body.newPassword, { requestId: requestIdOf(res) });
    if (!result.ok) {
      req.log.info({ username, outcome: 'refused' }, 'password change refused');
      failWith(result.failure);
    }
    await guard.succeeded(attempt);
    // As an admin's password reset does: guesses at the old password are moot now.
    await guard.unlock(username);
    req.log.info({ username, outcome: 'password_changed' }, 'password changed');
    res.json(await signedIn(result.value));
  });

  router.post('/admin/users', requireAdmin, async (req, res) => {
    const body = parseInput(createUserBody, req.body, 'user');
    const result = await users.createUser(body);
    if (!result.ok) failWith(result.failure);
    res.status(201).location(`/admin/users/${result.value.username}`).json(userView(result.value));
  });

  router.get('/admin/users', requireAdmin, async (req, res) => {
    const query = parseInput(listUsersQuery, req.query, 'query');
    const page = await users.listUsers(query.limit + 1, query.cursor);
    const items = page.slice(0, query.limit);
    res.json({
      items: items.map(userView),
      nextCursor: encodeCursor(page.length > query.limit ? items[items.length - 1]?.username : undefined),
    });
  });

  router.get('/admin/users/:username', requireAdmin, async (req, res) => {
    const user = await users.getUser(String(req.params.username));
    if (!user) throw new AppError('not_found', `no user ${req.params.username}`);
    res.json(userView(user));
  });

  router.patch('/admin/users/:username', requireAdmin, async (req, res) => {
    const body = parseInput(updateUserBody, req.body, 'change');
    const result = await users.updateUser(String(req.params.username), body, { requestId: requestIdOf(res) });
    if (!result.ok) failWith(result.failure);
    // A password reset is how an admin lets a locked-out user back in: it lifts the lock too.
    if (body.password !== undefined) await guard.unlock(result.value.username);
    res.json(userView(result.value));
  });

  router.post('/admin/users/:username/unlock', requireAdmin, async (req, res) => {
    const user = await users.getUser(String(req.params.username));
    if (!user) throw new AppError('not_found', `no user ${req.params.username}`);
    await guard.unlock(user.username);
    req.log.info({ username: user.username }, 'sign-in lock lifted');
    res.status(204).end();
  });

  router.delete('/admin/users/:username', requireAdmin, async (req, res) => {
    const result = await users.deleteUser(String(req.params.username), { requestId: requestIdOf(res) });
    if (!result.ok) failWith(result.failure);
    res.status(204).end();
  });

  router.get('/me', requireSession, async (_req, res) => {
    const me = await users.getUser(principalOf(res).sub);
    if (!me) throw new AppError('not_found', 'no such user');
    res.json(userView(me));
  });

  router.get('/me/keys', requireSession, async (req, res) => {
    const query = parseInput(myKeysQuery, req.query, 'query');
    // By the user's id, not the name: a user created under a deleted user's name owns none of
    // its keys. A sign-in that is no user (`akm admin-token`) owns none at all.
    const me = await callerUserId({ users }, res);
    const page = me !== undefined ? await keys.listKeys({ ownerId: me, limit: query.limit, beforeSeq: query.cursor }) : { items: [], next: undefined };
    res.json({
      items: page.items.map((k) => keyView(k, now())),
      nextCursor: encodeCursor(page.next),
    });
  });

  router.post('/me/keys', requireSession, async (req, res) => {
    const body = parseInput(ownKeyBody, req.body, 'key');
    const me = await users.getUser(principalOf(res).sub);
    if (!me) throw new AppError('policy_exceeded', 'you have no key policy: an admin issues your keys');
    const { expiresAt, ...rest } = body;
    const result = await keys.issueOwnKey(me, { ...rest, ...(expiresAt !== undefined ? { expiresAt: toSeconds(expiresAt) } : {}) }, { requestId: requestIdOf(res) });
    if (!result.ok) failWith(result.failure);
    const { record, key } = result.value;
    res.status(201).location(`/me/keys/${record.id}`).json({ ...keyView(record, now()), key });
  });

  router.delete('/me/keys/:id', requireSession, async (req, res) => {
    const { key } = await ownKeyOf({ keys, users }, res, String(req.params.id));
    const result = await keys.revokeKey(key.id, { requestId: requestIdOf(res) });
    if (!result.ok) failWith(result.failure);
    res.status(204).end();
  });

  router.post('/me/keys/:id/roll', requireSession, async (req, res) => {
    const { graceSeconds } = parseInput(rollKeyBody, req.body, 'roll');
    const { key, me } = await ownKeyOf({ keys, users }, res, String(req.params.id));
    // A roll issues a key: within a key policy, like creating one (else a user could renew a
    // key for ever), no longer-lived than the policy allows, and at most one key over maxKeys.
    const policy = me.keyPolicy;
    if (!policy) throw new AppError('policy_exceeded', 'you have no key policy: an admin rolls your keys');
    const result = await keys.rollKey(key.id, graceSeconds, { requestId: requestIdOf(res) }, policy);
    if (!result.ok) failWith(result.failure);
    const { record, key: secret } = result.value;
    res.status(201).location(`/me/keys/${record.id}`).json({ ...keyView(record, now()), key: secret });
  });

  router.post('/me/keys/:id/disable', requireSession, async (req, res) => {
    const { key } = await ownKeyOf({ keys, users }, res, String(req.params.id));
    const result = await keys.updateKey(key.id, { status: 'disabled' }, { requestId: requestIdOf(res) });
    if (!result.ok) failWith(result.failure);
    res.json(keyView(result.value, now()));
  });

  return router;
}
