/**
 * The command side of akm: issuing, changing and revoking API keys. Every change and its event
 * are written in one transaction (the outbox), so there is no dual write.
 */
import { randomUUID } from 'node:crypto';
import {
  API_KEY_TYP,
  DEFAULT_KEY_SCOPES,
  defaultLimits,
  isDefaultLimits,
  type CreditGrant,
  type CreditsInput,
  type KeyStatus,
  type RateLimitSpec,
  type Role,
} from '@akm/common';
import { changeType, keyEventOf } from './key-events.js';
import type { KeyHistory, KeyEventPage } from './key-history.js';
import { policyBreach, rollBreach, type KeyPolicy } from './key-policy.js';
import { ownerMayHold, type KeyListQuery, type KeyOwner, type KeyOwners, type KeyRecord, type KeyRepository } from './key-record.js';
import type { OutboxRepository } from './outbox.js';
import type { SigningKeys } from './signing-keys.js';
import type { Transactor } from './transactor.js';

/** Why a key command was refused. */
export type KeyFailure =
  | { code: 'not_found'; message: string }
  | { code: 'conflict'; message: string }
  | { code: 'policy_exceeded'; message: string }
  | { code: 'validation_failed'; field: string; message: string };

export type KeyResult<T> = { ok: true; value: T } | { ok: false; failure: KeyFailure };

/** What an admin asks for when issuing a key. */
export interface IssueKeyInput {
  sub: string;
  role: Role;
  /** Requests per minute: one limit named `default` (60 when neither it nor {@link limits} is given). */
  rateLimit?: number;
  /** Several limits instead of {@link rateLimit}. */
  limits?: readonly RateLimitSpec[];
  /** Requests the key may make in all (and their refill); unlimited when omitted. */
  credits?: CreditsInput;
  /** What the key may do besides its role; {@link DEFAULT_KEY_SCOPES} when omitted. */
  scopes?: readonly string[];
  /** Lifetime in seconds; or {@link expiresAt}. */
  ttl?: number;
  /** Seconds since epoch. */
  expiresAt?: number;
  name?: string;
  meta?: Record<string, unknown>;
}

/** What a user asks for when creating a key of their own: an admin's request without owner or role. */
export type OwnKeyInput = Omit<IssueKeyInput, 'sub' | 'role'>;

/** A change to an existing key. */
export interface UpdateKeyInput {
  /** Replaces every limit by one per-minute limit named `default`. */
  rateLimit?: number;
  /** Replaces every limit. */
  limits?: readonly RateLimitSpec[];
  /** Sets what is left from now (a top-up), with its refill; null removes the credits. */
  credits?: CreditsInput | null;
  /** A new lifetime, seconds from now; or {@link expiresAt}. */
  ttl?: number;
  /** Seconds since epoch. */
  expiresAt?: number;
  status?: Exclude<KeyStatus, 'revoked'>;
}

/** Context of a command, carried into its event. */
export interface CommandContext {
  requestId?: string;
}

/** Options of {@link createKeyService}. */
export interface KeyServiceOptions {
  transactor: Transactor;
  keys: KeyRepository;
  /** Who is a user: a key issued to a user's name belongs to that user, and is never more than them. */
  owners: KeyOwners;
  outbox: OutboxRepository;
  /** Where every event is kept for reading back (the outbox keeps sent events only a while). */
  history: KeyHistory;
  signing: SigningKeys;
  issuer: string;
  audience: string;
  /** Milliseconds since epoch. */
  now: () => number;
  /** Longest key lifetime, seconds. */
  maxTtlSeconds: number;
  /** Lifetime when neither `ttl` nor `expiresAt` is given, seconds. */
  defaultTtlSeconds: number;
  /** Longest grace period of a roll, seconds. */
  maxRollGraceSeconds: number;
  /** Called after every committed change (wakes the outbox relay). */
  onChange?: () => void;
}

/** The key service. */
export type KeyService = ReturnType<typeof createKeyService>;

/** Requests per minute of a key issued with neither `rateLimit` nor `limits`. */
const DEFAULT_RATE_LIMIT = 60;

const invalid = (field: string, message: string): KeyResult<never> => ({
  ok: false,
  failure: { code: 'validation_failed', field, message },
});
const exceeded = (message: string): KeyResult<never> => ({ ok: false, failure: { code: 'policy_exceeded', message } });
/** How many times a change is tried against changes made at the same moment. */
const CHANGE_ATTEMPTS = 5;
/** A change lost to one made at the same moment, in a transaction that must be rolled back. */
class ChangedMeanwhile extends Error {}

const notFound = (id: string): KeyResult<never> => ({ ok: false, failure: { code: 'not_found', message: `no key ${id}` } });

/** A new grant of `credits` made at `nowS`: counted from zero under a new id. */
function grantOf(credits: CreditsInput, nowS: number): CreditGrant {
  return { ...credits, grantedAt: nowS, grant: randomUUID() };
}

/** Why `key` cannot be rolled at `nowS` (seconds since epoch), if it cannot. */
function rollRefusal(key: KeyRecord, nowS: number): string | undefined {
  if (key.status === 'revoked' || (key.revokeAt !== null && key.revokeAt <= nowS)) return `key ${key.id} is revoked`;
  if (key.rolledTo !== null) return `key ${key.id} was already rolled to ${key.rolledTo}`;
  // Its replacement would be active: a roll would undo the disabling (of the key, or of its owner).
  if (key.status === 'disabled') return `key ${key.id} is disabled: enable it to roll it`;
  if (key.expiresAt <= nowS) return `key ${key.id} has expired: issue a new key`;
  return undefined;
}

/** Creates the key service. */
export function createKeyService(options: KeyServiceOptions) {
  const { transactor, keys, outbox, history, signing, now } = options;
  const nowSeconds = () => Math.floor(now() / 1000);
  /**
   * In a transaction: the user named `sub` as stored now, held (see {@link KeyRepository.holdOwner})
   * until it ends, so that a change of the user (disabled, demoted or deleted: each changes their
   * keys under the same hold) comes wholly before or after the key stored here. Undefined for a
   * name that is no user.
   */
  async function heldOwner(sub: string): Promise<KeyOwner | undefined> {
    const seen = await options.owners.get(sub);
    if (!seen) return undefined;
    await keys.holdOwner(seen.id);
    const held = await options.owners.get(sub);
    // Deleted and created again under the name meanwhile: hold the user it names now.
    return held && held.id !== seen.id ? heldOwner(sub) : held;
  }
  /** The owner's keys that work at `nowS`. */
  const liveKeysOfOwner = async (ownerId: string, nowS: number) =>
    (await keys.liveKeysOf(ownerId)).filter((k) => k.expiresAt > nowS && (k.revokeAt === null || k.revokeAt > nowS));

  function checkExpiry(expiresAt: number, field: string): KeyResult<number> {
    const t = nowSeconds();
    if (expiresAt <= t) return invalid(field, 'must be in the future');
    if (expiresAt > t + options.maxTtlSeconds) {
      return invalid(field, `must be at most ${options.maxTtlSeconds} seconds from now`);
    }
    return { ok: true, value: expiresAt };
  }

  /**
   * Writes a key and its event together; joins the caller's transaction when there is one.
   * False (nothing written) when a change of the key made meanwhile got there first.
   */
  const commit = (record: KeyRecord, isNew: boolean, type: Parameters<typeof keyEventOf>[1], ctx: CommandContext) =>
    transactor.run(async () => {
      if (isNew) await keys.insert(record);
      else if (!(await keys.update(record))) return false;
      const event = keyEventOf(record, type, record.updatedAt, ctx.requestId);
      await outbox.add(event, record.updatedAt);
      await history.append(event);
      await signing.extendKey(record.kid, record.expiresAt);
      return true;
    });

  /**
   * Reads a key, works out its change and commits it, in one transaction holding the key's owner
   * (so that `decide` sees the owner as a change of theirs leaves it: a key is not enabled for an
   * owner being disabled); when another change (another request, another replica) committed in
   * between, reads it again, a few times at most.
   */
  async function change(
    id: string,
    decide: (before: KeyRecord) => Promise<KeyResult<KeyRecord>>,
    ctx: CommandContext,
  ): Promise<KeyResult<KeyRecord>> {
    for (let attempt = 0; attempt < CHANGE_ATTEMPTS; attempt++) {
      const done = await transactor.run(async (): Promise<{ result: KeyResult<KeyRecord>; committed: boolean } | undefined> => {
        const before = await keys.get(id);
        if (!before) return { result: notFound(id), committed: false };
        if (before.ownerId !== null) await keys.holdOwner(before.ownerId);
        const decided = await decide(before);
        if (!decided.ok || decided.value === before) return { result: decided, committed: false };
        // False: changed meanwhile (also by the owner's change just waited for): read it again.
        return (await commit(decided.value, false, changeType(before, decided.value), ctx)) ? { result: decided, committed: true } : undefined;
      });
      if (!done) continue;
      if (done.committed) options.onChange?.();
      return done.result;
    }
    return { ok: false, failure: { code: 'conflict', message: `key ${id} is being changed by another request; try again` } };
  }

  /** Signs a key and builds its record (not stored: the caller commits it, with its owner id). */
  async function mint(
    plan: Pick<KeyRecord, 'sub' | 'role' | 'limits' | 'scopes' | 'credits'> & { name?: string | null; meta?: Record<string, unknown> | null },
    iat: number,
    expiresAt: number,
    rolledFrom: string | null,
  ): Promise<{ record: KeyRecord; key: string }> {
    const id = randomUUID();
    const limits = plan.limits.map((l) => ({ ...l }));
    const rateLimit = limits[0]!.limit;
    const kid = signing.currentKid();
    const key = await signing.sign(
      {
        iss: options.issuer,
        aud: options.audience,
        sub: plan.sub,
        jti: id,
        iat,
        nbf: iat,
        exp: expiresAt,
        role: plan.role,
        rate_limit: rateLimit,
        ...(isDefaultLimits(limits, rateLimit) ? {} : { limits }),
        ...(plan.credits ? { credits: plan.credits } : {}),
        scope: plan.scopes.join(' '),
      },
      API_KEY_TYP,
    );
    const t = now();
    const record: KeyRecord = {
      id,
      sub: plan.sub,
      ownerId: null,
      role: plan.role,
      name: plan.name ?? null,
      meta: plan.meta ?? null,
      rateLimit,
      limits,
      scopes: [...plan.scopes],
      credits: plan.credits,
      expiresAt,
      createdAt: t,
      updatedAt: t,
      status: 'active',
      version: 1,
      kid,
      revokeAt: null,
      rolledTo: null,
      rolledFrom,
    };
    return { record, key };
  }

  /** Issues a key; `admit`, when given, may refuse it (naming a policy bound) in the transaction that stores it. */
  async function issue(
    input: IssueKeyInput,
    ctx: CommandContext,
    admit?: (ownerId: string | undefined) => Promise<string | undefined>,
  ): Promise<KeyResult<{ record: KeyRecord; key: string }>> {
    const iat = nowSeconds();
    const expiry =
      input.expiresAt !== undefined
        ? checkExpiry(input.expiresAt, 'expiresAt')
        : checkExpiry(iat + (input.ttl ?? options.defaultTtlSeconds), 'ttl');
    if (!expiry.ok) return expiry;
    const limits = input.limits ? input.limits.map((l) => ({ ...l })) : defaultLimits(input.rateLimit ?? DEFAULT_RATE_LIMIT);
    const credits = input.credits ? grantOf(input.credits, iat) : null;
    const minted = await mint({ ...input, limits, credits, scopes: [...new Set(input.scopes ?? DEFAULT_KEY_SCOPES)] }, iat, expiry.value, null);
    // The owner is read and held in the transaction that stores the key: a user disabled,
    // demoted or deleted meanwhile either came first (and is seen here) or changes this key too.
    const stored = await transactor.run(async (): Promise<KeyResult<never> | undefined> => {
      const owner = await heldOwner(input.sub);
      if (owner?.status === 'disabled') return { ok: false, failure: { code: 'conflict', message: `user ${input.sub} is disabled: a key is never more than its owner` } };
      if (!ownerMayHold(owner, input.role)) return invalid('role', `an admin key needs an owner who is an active admin user; ${input.sub} is not`);
      const refused = await admit?.(owner?.id);
      if (refused) return exceeded(refused);
      minted.record.ownerId = owner?.id ?? null;
      await commit(minted.record, true, 'key.created', ctx);
      return undefined;
    });
    if (stored) return stored;
    options.onChange?.();
    return { ok: true, value: minted };
  }

  return {
    /** Issues a key: signs it, stores its metadata and event. The key string is returned once. */
    issueKey(input: IssueKeyInput, ctx: CommandContext = {}): Promise<KeyResult<{ record: KeyRecord; key: string }>> {
      return issue(input, ctx);
    },

    /**
     * A user creates a key of their own, within their key policy (none: refused, an admin issues
     * their keys). Anything outside it is refused `policy_exceeded`, naming the bound; the count
     * of keys is checked in the transaction that stores the new one.
     */
    issueOwnKey(
      owner: { id: string; username: string; keyPolicy: KeyPolicy | null },
      input: OwnKeyInput,
      ctx: CommandContext = {},
    ): Promise<KeyResult<{ record: KeyRecord; key: string }>> {
      const policy = owner.keyPolicy;
      if (!policy) return Promise.resolve(exceeded('you have no key policy: an admin issues your keys'));
      const nowS = nowSeconds();
      const ttl = input.ttl ?? Math.min(options.defaultTtlSeconds, policy.maxTtlSeconds);
      const limits = input.limits ?? defaultLimits(input.rateLimit ?? Math.min(DEFAULT_RATE_LIMIT, policy.maxRateLimit));
      const scopes = input.scopes ?? policy.scopes;
      const request = { limits, scopes, ttlSeconds: input.expiresAt !== undefined ? input.expiresAt - nowS : ttl };
      const admit = async (heldId: string | undefined) =>
        // Deleted (or deleted and created again) since the caller was read: not their key to make.
        heldId !== owner.id ? `user ${owner.username} no longer exists` : policyBreach(policy, request, (await liveKeysOfOwner(heldId, nowS)).length);
      // `limits` stands for `rateLimit` from here on: issue() reads it first.
      return issue({ ...input, limits, scopes, ...(input.expiresAt === undefined ? { ttl } : {}), sub: owner.username, role: 'user' }, ctx, admit);
    },
    /**
     * Rolls a key: issues its replacement (same owner, role, limits, scopes, name and meta, the
     * lifetime the old key was issued with, or less under `policy`: a user rolling within a key
     * policy gets no longer than its `maxTtlSeconds`, and no key past its `maxKeys` but the one
     * replacing the rolled key during its grace) and has the old key refused as revoked
     * `graceSeconds` from now (at once for 0; never later than its own expiry). Both changes and
     * their events are one transaction; the old key's event carries the end time, so verifiers
     * refuse it then by their own clocks. The new key string is returned once.
     */
    async rollKey(
      id: string,
      graceSeconds: number,
      ctx: CommandContext = {},
      policy?: KeyPolicy,
    ): Promise<KeyResult<{ record: KeyRecord; key: string; old: KeyRecord }>> {
      const before = await keys.get(id);
      if (!before) return notFound(id);
      if (graceSeconds > options.maxRollGraceSeconds) {
        return invalid('graceSeconds', `must be at most ${options.maxRollGraceSeconds} seconds`);
      }
      const iat = nowSeconds();
      const cannot = rollRefusal(before, iat);
      if (cannot) return { ok: false, failure: { code: 'conflict', message: cannot } };
      if (!ownerMayHold(await options.owners.get(before.sub), before.role)) {
        return { ok: false, failure: { code: 'conflict', message: `admin key ${id} cannot be rolled: ${before.sub} is not an active admin user` } };
      }
      const lifetime = Math.max(1, before.expiresAt - Math.floor(before.createdAt / 1000));
      const minted = await mint(before, iat, iat + Math.min(lifetime, options.maxTtlSeconds, policy?.maxTtlSeconds ?? Infinity), before.id);
      const changedMeanwhile: KeyResult<never> = { ok: false, failure: { code: 'conflict', message: `key ${id} changed meanwhile; roll it again` } };
      const result = await transactor.run(async (): Promise<KeyResult<KeyRecord>> => {
        // Held like an issue: a change of the owner comes wholly before (and changed the key:
        // refused just below) or after (and changes the new key too).
        if (before.ownerId !== null) await keys.holdOwner(before.ownerId);
        // The key may have changed while the new one was signed: roll only what was read.
        const current = await keys.get(id);
        if (!current || current.version !== before.version) return changedMeanwhile;
        const breach = policy && before.ownerId !== null ? rollBreach(policy, (await liveKeysOfOwner(before.ownerId, iat)).filter((k) => k.id !== id)) : undefined;
        if (breach) return exceeded(breach);
        const revokeAt = Math.min(iat + graceSeconds, before.expiresAt);
        const after: KeyRecord = {
          ...before,
          status: graceSeconds === 0 ? 'revoked' : before.status,
          revokeAt,
          rolledTo: minted.record.id,
          updatedAt: now(),
          version: before.version + 1,
        };
        // The old key first, then the new one: the key's row before the signing key's record (which
        // a new key's later expiry updates), the order of every key change, so that a roll and a
        // change of the old key cannot wait on each other. Changed since it was read: nothing written.
        if (!(await commit(after, false, changeType(before, after), ctx))) throw new ChangedMeanwhile();
        minted.record.ownerId = before.ownerId;
        await commit(minted.record, true, 'key.created', ctx);
        return { ok: true, value: after };
      }).catch((err: unknown) => {
        if (err instanceof ChangedMeanwhile) return changedMeanwhile;
        throw err;
      });
      if (!result.ok) return result;
      options.onChange?.();
      return { ok: true, value: { ...minted, old: result.value } };
    },

    getKey(id: string): Promise<KeyRecord | undefined> {
      return keys.get(id);
    },

    listKeys(query: Omit<KeyListQuery, 'nowSeconds'>) {
      return keys.list({ ...query, nowSeconds: nowSeconds() });
    },

    /** A key's events, newest first: one page of `limit`, continuing before `beforeSeq`. */
    keyEvents(id: string, limit: number, beforeSeq?: number): Promise<KeyEventPage> {
      return history.list(id, limit, beforeSeq);
    },

    /** Changes rate limit, expiry or status; takes effect on every verifier without a new key. */
    updateKey(id: string, input: UpdateKeyInput, ctx: CommandContext = {}): Promise<KeyResult<KeyRecord>> {
      return change(id, (before) => decideUpdate(before, input), ctx);
    },

    /**
     * Disables every active key of a user id (only those of `role`, when given), or revokes every
     * live one, each with its event. Runs inside the caller's transaction when there is one
     * (e.g. with the user change).
     */
    async setOwnerKeys(ownerId: string, status: 'disabled' | 'revoked', ctx: CommandContext = {}, role?: Role): Promise<KeyRecord[]> {
      const changed = await transactor.run(async () => {
        // Held: a key being issued to or rolled for the owner right now is stored first, and seen here.
        await keys.holdOwner(ownerId);
        const done: KeyRecord[] = [];
        for (const live of await keys.liveKeysOf(ownerId)) {
          for (let attempt = 0, before: KeyRecord | undefined = live; before; attempt++) {
            if (status !== 'revoked' && before.status !== 'active') break;
            if (role !== undefined && before.role !== role) break;
            if (before.status === 'revoked') break;
            const after: KeyRecord = { ...before, status, updatedAt: now(), version: before.version + 1 };
            if (await commit(after, false, changeType(before, after), ctx)) {
              done.push(after);
              break;
            }
            // Changed meanwhile: read it again (the transaction must not end with it still live).
            if (attempt + 1 >= CHANGE_ATTEMPTS) throw new Error(`key ${before.id} kept changing while its owner's keys were changed`);
            before = await keys.get(before.id);
          }
        }
        return done;
      });
      if (changed.length) options.onChange?.();
      return changed;
    },

    /** Revokes a key for good. Revoking a revoked key changes nothing. */
    revokeKey(id: string, ctx: CommandContext = {}): Promise<KeyResult<KeyRecord>> {
      return change(
        id,
        async (before) =>
          before.status === 'revoked'
            ? { ok: true, value: before }
            : { ok: true, value: { ...before, status: 'revoked', updatedAt: now(), version: before.version + 1 } },
        ctx,
      );
    },
  };

  /** The change `input` makes to `before`, or why it may not; `before` itself when it changes nothing. */
  async function decideUpdate(before: KeyRecord, input: UpdateKeyInput): Promise<KeyResult<KeyRecord>> {
    const id = before.id;
    if (before.status === 'revoked') return { ok: false, failure: { code: 'conflict', message: `key ${id} is revoked` } };
    let expiresAt = before.expiresAt;
    if (input.expiresAt !== undefined || input.ttl !== undefined) {
      const expiry =
        input.ttl !== undefined ? checkExpiry(nowSeconds() + input.ttl, 'ttl') : checkExpiry(input.expiresAt!, 'expiresAt');
      if (!expiry.ok) return expiry;
      expiresAt = expiry.value;
    }
    const limits =
      input.limits !== undefined
        ? input.limits.map((l) => ({ ...l }))
        : input.rateLimit !== undefined
          ? defaultLimits(input.rateLimit)
          : before.limits;
    const after: KeyRecord = {
      ...before,
      rateLimit: limits[0]!.limit,
      limits,
      credits: input.credits === undefined ? before.credits : input.credits === null ? null : grantOf(input.credits, nowSeconds()),
      expiresAt,
      status: input.status ?? before.status,
      updatedAt: now(),
      version: before.version + 1,
    };
    const sameLimits = JSON.stringify(after.limits) === JSON.stringify(before.limits);
    if (sameLimits && input.credits === undefined && after.expiresAt === before.expiresAt && after.status === before.status) {
      return { ok: true, value: before };
    }
    if (before.status !== 'active' && after.status === 'active') {
      // Read under the owner's hold (see change()): a key is never more than its owner.
      const owner = await options.owners.get(before.sub);
      if (before.ownerId !== null && owner?.id === before.ownerId && owner.status === 'disabled') {
        return { ok: false, failure: { code: 'conflict', message: `key ${id} cannot be enabled: its user ${before.sub} is disabled (enable the user first)` } };
      }
      if (!ownerMayHold(owner, before.role)) {
        return { ok: false, failure: { code: 'conflict', message: `admin key ${id} cannot be enabled: ${before.sub} is not an active admin user` } };
      }
    }
    return { ok: true, value: after };
  }
}

