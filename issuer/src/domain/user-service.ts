/**
 * Users: sign-in, bootstrap of the first admin, and user management. Disabling a user
 * disables their keys and deleting one revokes them, in the same transaction, with events.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Role } from '@akm/common';
import type { InitialPasswordStore } from './initial-password.js';
import type { KeyPolicy } from './key-policy.js';
import type { CommandContext, KeyResult, KeyService } from './key-service.js';
import type { Transactor } from './transactor.js';
import type { UserRecord, UserRepository, UserStatus } from './user-record.js';
import { hashPassword, UNMATCHABLE_HASH, verifyPassword } from './passwords.js';

/** Options of {@link createUserService}. */
export interface UserServiceOptions {
  transactor: Transactor;
  users: UserRepository;
  keys: KeyService;
  now: () => number;
  /** Where a generated first admin password is kept until someone signs in with it. */
  initialPassword?: InitialPasswordStore;
}

/** Name of the admin user created on first start. */
export const FIRST_ADMIN = 'admin';

/** The first admin's generated password, while nobody has signed in with it. */
export interface PendingInitialPassword {
  password: string;
  /** Where it is kept (see {@link InitialPasswordStore.location}). */
  location: string;
  /** True on the start that created it. */
  firstStart: boolean;
}

/** A change to a user. */
export interface UpdateUserInput {
  role?: Role;
  password?: string;
  status?: UserStatus;
  /** Sets the user's key policy; null removes it. */
  keyPolicy?: KeyPolicy | null;
}

/** The user service. */
export type UserService = ReturnType<typeof createUserService>;

const notFound = (name: string): KeyResult<never> => ({ ok: false, failure: { code: 'not_found', message: `no user ${name}` } });
const conflict = (message: string): KeyResult<never> => ({ ok: false, failure: { code: 'conflict', message } });

/** Creates the user service. */
export function createUserService(options: UserServiceOptions) {
  const { transactor, users, keys, now, initialPassword } = options;

  const isLastActiveAdmin = async (user: UserRecord) =>
    user.role === 'admin' && user.status === 'active' && (await users.otherActiveAdmins(user.username)) === 0;

  /**
   * Runs `work` on the stored user `username` in one transaction that holds the users (see
   * {@link UserRepository.hold}): what it read, the user and the count of admins, stays true
   * until what it writes is stored, whichever replica another change goes through.
   */
  const changeUser = <T>(username: string, work: (user: UserRecord) => Promise<KeyResult<T>>): Promise<KeyResult<T>> =>
    transactor.run(async () => {
      await users.hold();
      const user = await users.get(username);
      return user ? work(user) : notFound(username);
    });

  /**
   * A new session epoch. Exact where a time would not be: changes and sign-ins within one second
   * are told apart, and a user deleted and created again never matches an old epoch.
   */
  const newSessionEpoch = () => randomBytes(12).toString('base64url');

  const service = {
    /**
     * Creates the `admin` user when there are no users yet, with `password` or a random one. A
     * random one is kept (see {@link InitialPasswordStore}) before the user is created, so no
     * failure after this point loses it; it is answered on every start until it was used.
     */
    async bootstrap(password?: string): Promise<{ created: boolean; pending?: PendingInitialPassword }> {
      if ((await users.count()) > 0) {
        const kept = initialPassword?.read();
        if (!kept || !initialPassword) return { created: false };
        const admin = await users.get(FIRST_ADMIN);
        // Kept, but no longer the admin's password (changed, or the admin deleted): worthless.
        if (!admin || !(await verifyPassword(kept, admin.passwordHash))) {
          initialPassword.remove();
          return { created: false };
        }
        return { created: false, pending: { password: kept, location: initialPassword.location, firstStart: false } };
      }
      const generated = password ? undefined : randomBytes(18).toString('base64url');
      if (generated) initialPassword?.write(generated);
      else initialPassword?.remove();
      const t = now();
      const inserted = await users.insert({
        id: randomUUID(),
        username: FIRST_ADMIN,
        passwordHash: await hashPassword(password ?? generated!),
        role: 'admin',
        status: 'active',
        createdAt: t,
        updatedAt: t,
        sessionEpoch: newSessionEpoch(),
        keyPolicy: null,
      });
      // Another replica on the same database created it first: its password stands, not this one.
      if (!inserted) {
        if (generated) initialPassword?.remove();
        return { created: false };
      }
      if (!generated) return { created: true };
      return { created: true, pending: { password: generated, location: initialPassword?.location ?? '', firstStart: true } };
    },

    /** The active user with this name and password; unknown names take as long as wrong passwords. */
    async authenticate(username: string, password: string): Promise<UserRecord | undefined> {
      const user = await users.get(username);
      const matches = await verifyPassword(password, user?.passwordHash ?? UNMATCHABLE_HASH);
      if (!matches || user?.status !== 'active') return undefined;
      // Someone signed in as the first admin: its generated password is known, no need to keep it.
      if (user.username === FIRST_ADMIN) initialPassword?.remove();
      return user;
    },

    getUser: (username: string) => users.get(username),
    listUsers: (limit: number, after?: string) => users.list(limit, after),

    async createUser(input: { username: string; password: string; role: Role }): Promise<KeyResult<UserRecord>> {
      if (await users.get(input.username)) return conflict(`user ${input.username} exists`);
      const t = now();
      const user: UserRecord = {
        // A new id even for a name used before: the keys of the former user stay theirs.
        id: randomUUID(),
        username: input.username,
        passwordHash: await hashPassword(input.password),
        role: input.role,
        status: 'active',
        createdAt: t,
        updatedAt: t,
        // A user deleted and created again under the same name gets none of the old sign-ins.
        sessionEpoch: newSessionEpoch(),
        keyPolicy: null,
      };
      if (await users.get(input.username)) return conflict(`user ${input.username} exists`);
      if (!(await users.insert(user))) return conflict(`user ${input.username} exists`);
      return { ok: true, value: user };
    },

    async updateUser(username: string, input: UpdateUserInput, ctx: CommandContext = {}): Promise<KeyResult<UserRecord>> {
      const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password);
      const result = await changeUser(username, async (before): Promise<KeyResult<UserRecord>> => {
        const after: UserRecord = {
          ...before,
          role: input.role ?? before.role,
          status: input.status ?? before.status,
          passwordHash: passwordHash ?? before.passwordHash,
          keyPolicy: input.keyPolicy === undefined ? before.keyPolicy : input.keyPolicy,
          updatedAt: now(),
        };
        // A new password, role or status ends every sign-in made before it (a re-enabled user
        // signs in again; a leaked token dies with the password change).
        const changed = after.role !== before.role || after.status !== before.status || passwordHash !== undefined;
        if (changed) after.sessionEpoch = newSessionEpoch();
        if ((await isLastActiveAdmin(before)) && (after.role !== 'admin' || after.status !== 'active')) {
          return conflict('the last active admin cannot be demoted or disabled');
        }
        await users.update(after);
        if (before.status === 'active' && after.status === 'disabled') await keys.setOwnerKeys(before.id, 'disabled', ctx);
        // A key is no more than its owner: a demoted admin's admin keys stop, on every verifier.
        else if (before.role === 'admin' && after.role !== 'admin') await keys.setOwnerKeys(before.id, 'disabled', ctx, 'admin');
        return { ok: true, value: after };
      });
      if (result.ok && username === FIRST_ADMIN && passwordHash !== undefined) initialPassword?.remove();
      return result;
    },

    /**
     * A user changes their own password, proving the current one. Like any password change it
     * ends every sign-in of the user made before it.
     */
    async changePassword(username: string, current: string, next: string, ctx: CommandContext = {}): Promise<KeyResult<UserRecord>> {
      const user = await users.get(username);
      if (!user) return notFound(username);
      if (!(await verifyPassword(current, user.passwordHash))) {
        return { ok: false, failure: { code: 'validation_failed', field: 'currentPassword', message: 'is not your current password' } };
      }
      return service.updateUser(username, { password: next }, ctx);
    },

    /** Ends every sign-in of a user (a new session epoch), e.g. to sign out everywhere. */
    endAllSessions(username: string): Promise<KeyResult<UserRecord>> {
      return changeUser(username, async (user) => {
        const after: UserRecord = { ...user, sessionEpoch: newSessionEpoch(), updatedAt: now() };
        await users.update(after);
        return { ok: true, value: after };
      });
    },

    async deleteUser(username: string, ctx: CommandContext = {}): Promise<KeyResult<UserRecord>> {
      const result = await changeUser(username, async (user): Promise<KeyResult<UserRecord>> => {
        if (await isLastActiveAdmin(user)) return conflict('the last active admin cannot be deleted');
        await users.delete(username);
        await keys.setOwnerKeys(user.id, 'revoked', ctx);
        return { ok: true, value: user };
      });
      if (result.ok && username === FIRST_ADMIN) initialPassword?.remove();
      return result;
    },

    /**
     * Whether a sign-in for `username` with `role` and session epoch `epoch` (its `sv` claim;
     * none before schema version 3) still holds: the user exists, is active, still has that
     * role, and has not changed its password, role or status since.
     */
    async acceptsSession(username: string, role: Role, epoch: string | undefined): Promise<boolean> {
      const user = await users.get(username);
      return user?.status === 'active' && user.role === role && (epoch ?? '') === user.sessionEpoch;
    },
  };
  return service;
}
