/**
 * Key events: what the issuer publishes on every change and what verifiers consume.
 * Each event carries the key's whole state after the change, so the latest message per
 * subject is enough to rebuild it (the stream keeps only that one).
 */
import { z } from 'zod';
import { creditGrantSchema, rateLimitsSchema } from './rate-limits.js';
import { KEY_STATUSES, MAX_KEY_SCOPES, ROLES, SCOPE_PATTERN } from './tokens.js';

/** JetStream stream holding key events. */
export const KEY_STREAM = 'AKM_KEYS';
/** Subject prefix: one subject per key, `akm.keys.<keyId>`. */
export const KEY_SUBJECT_PREFIX = 'akm.keys.';
/** Wildcard that matches every key subject. */
export const KEY_SUBJECTS = `${KEY_SUBJECT_PREFIX}*`;

/** Subject for one key's events. */
export function keySubject(keyId: string): string {
  return `${KEY_SUBJECT_PREFIX}${keyId}`;
}

/** Event types, by change. */
export const KEY_EVENT_TYPES = [
  'key.created',
  'key.updated',
  'key.disabled',
  'key.enabled',
  'key.revoked',
  'key.rolled',
] as const;
export type KeyEventType = (typeof KEY_EVENT_TYPES)[number];

const keyState = {
  /** Unique event id, also the JetStream `Nats-Msg-Id`. */
  id: z.string().min(1).max(64).meta({ description: 'Unique event id, also the JetStream `Nats-Msg-Id` (duplicates are dropped).' }),
  keyId: z.string().min(1).max(64).meta({ description: 'The key id: the `jti` of the key and the last token of the subject `akm.keys.<keyId>`.' }),
  /** Owner of the key. */
  sub: z.string().min(1).max(128).meta({ description: 'Owner of the key (its `sub`).' }),
  role: z.enum(ROLES),
  status: z.enum(KEY_STATUSES).meta({ description: '`revoked` is final.' }),
  /** Requests per minute. */
  rateLimit: z.number().int().positive().meta({ description: 'Requests per minute, now (it may differ from the signed `rate_limit`).' }),
  /** Seconds since epoch. */
  expiresAt: z.number().int().positive().meta({ description: 'When the key expires now, seconds since epoch (it may differ from the signed `exp`).' }),
  /** The key's limits when they are more than one per-minute limit of `rateLimit`. */
  limits: rateLimitsSchema
    .optional()
    .meta({ description: 'Every limit of the key, when it is more than the one per-minute limit named `default` of `rateLimit` (absent: just that one).' }),
  /** The key's credits, when it has any: a grant that verifiers count down across instances. */
  credits: creditGrantSchema
    .optional()
    .meta({ description: 'The key\'s credits, when it has any: `remaining` as of `grantedAt`, counted down from zero under `grant`, refilled to `refill.amount` at the start of each later UTC day or month.' }),
  /** The key's scopes (fixed when it is issued, as its signed `scope` claim). */
  scopes: z
    .array(z.string().regex(SCOPE_PATTERN))
    .max(MAX_KEY_SCOPES)
    .optional()
    .meta({ description: 'The key\'s scopes, as its signed `scope` claim; absent on events of keys issued before scopes (they have `prices:read`).' }),
  /** When a rolled key stops working: verifiers refuse it from then on, by their own clock. */
  revokeAt: z
    .number()
    .int()
    .positive()
    .optional()
    .meta({ description: 'Seconds since epoch: the key was rolled and is refused as revoked from then on (by each verifier\'s own clock, no later event needed).' }),
  rolledTo: z.string().min(1).max(64).optional().meta({ description: 'The key that replaces this one (set by a roll).' }),
  rolledFrom: z.string().min(1).max(64).optional().meta({ description: 'The key this one replaces (on the new key of a roll).' }),
  /** Monotonic per key: a consumer ignores an event older than the state it holds. */
  version: z.number().int().positive().meta({ description: 'Grows with every change of the key: ignore an event whose version is not above the one held.' }),
  /** Request id of the change that caused the event. */
  requestId: z.string().max(128).optional().meta({ description: 'Request id of the change, as in the issuer\'s logs.' }),
};

const eventOf = <T extends KeyEventType>(type: T) =>
  z
    .object({
      type: z.literal(type),
      /** Schema version of the payload. */
      v: z.literal(2).meta({ description: 'Payload version.' }),
      ...keyState,
      /** When the change happened, seconds since epoch (like every time of an event). */
      at: z.number().int().nonnegative().meta({ description: 'When the change happened, seconds since epoch.' }),
    })
    .strict()
    .meta({ id: type, description: `The key's whole state after a \`${type}\` change.` });

/**
 * Schema of a key event, version 2: a discriminated union on `type`; every time is in seconds
 * since epoch. What the issuer publishes; `docs/events.schema.json` is generated from it.
 */
export const keyEventSchema = z.discriminatedUnion('type', [
  eventOf('key.created'),
  eventOf('key.updated'),
  eventOf('key.disabled'),
  eventOf('key.enabled'),
  eventOf('key.revoked'),
  eventOf('key.rolled'),
]);

/** A validated key event (version 2). */
export type KeyEvent = z.infer<typeof keyEventSchema>;

/**
 * Version 1, which issuers before version 2 published: the same fields, but `at` in
 * milliseconds. A stream keeps a key's latest event until the key changes again or ages out
 * (the longest key lifetime plus a day), so verifiers still read it; see docs/key-format.md.
 */
const legacyKeyEventV1Schema = z
  .object({ type: z.enum(KEY_EVENT_TYPES), v: z.literal(1), ...keyState, at: z.number().int().nonnegative() })
  .strict()
  .transform((e): KeyEvent => ({ ...e, v: 2, at: Math.floor(e.at / 1000) }) as KeyEvent);

/** What a consumer accepts: version 2, or version 1 read as version 2. */
const readableKeyEventSchema = z.union([keyEventSchema, legacyKeyEventV1Schema]);

/** Result of parsing a raw payload: expected failures are data. */
export type ParsedKeyEvent = { ok: true; event: KeyEvent } | { ok: false; error: string };

// Decodes without copying: a verifier's cold start decodes one event per live key, and
// Buffer.from(bytes) copied each one first (a fifth of parse + validate, measured).
const utf8 = new TextDecoder();

const V2_FIELDS = new Set(['type', 'v', 'id', 'keyId', 'sub', 'role', 'status', 'rateLimit', 'expiresAt', 'version', 'at', 'requestId', 'scopes']);
const TYPES: ReadonlySet<unknown> = new Set(KEY_EVENT_TYPES);
const ROLE_SET: ReadonlySet<unknown> = new Set(ROLES);
const STATUS_SET: ReadonlySet<unknown> = new Set(KEY_STATUSES);

const text = (value: unknown, max: number, min = 1) => typeof value === 'string' && value.length >= min && value.length <= max;
const count = (value: unknown, min: number) => Number.isSafeInteger(value) && (value as number) >= min;

/**
 * True for a version 2 event exactly as the issuer writes them, checked field by field without
 * the schema: a cold start reads one event per live key, and the schema took a third of that.
 * It is at least as strict as {@link keyEventSchema} (no field missing, none extra, every
 * bound); anything else goes to the schema, whose verdict and error stand.
 */
function isWellFormedV2(value: unknown): value is KeyEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const e = value as Record<string, unknown>;
  let fields = 0;
  for (const name in e) {
    if (!V2_FIELDS.has(name)) return false;
    fields++;
  }
  const requestId = e.requestId;
  const scopes = e.scopes;
  if (fields !== 11 + (requestId === undefined ? 0 : 1) + (scopes === undefined ? 0 : 1)) return false;
  return (
    e.v === 2 &&
    TYPES.has(e.type) &&
    text(e.id, 64) &&
    text(e.keyId, 64) &&
    text(e.sub, 128) &&
    ROLE_SET.has(e.role) &&
    STATUS_SET.has(e.status) &&
    count(e.rateLimit, 1) &&
    count(e.expiresAt, 1) &&
    count(e.version, 1) &&
    count(e.at, 0) &&
    (requestId === undefined || text(requestId, 128, 0)) &&
    (scopes === undefined || areScopes(scopes))
  );
}

const areScopes = (value: unknown) =>
  Array.isArray(value) && value.length <= MAX_KEY_SCOPES && value.every((scope) => typeof scope === 'string' && SCOPE_PATTERN.test(scope));

/** Parses and validates a key event (version 2, or version 1 converted) from its JSON bytes or text. */
export function parseKeyEvent(raw: Uint8Array | string): ParsedKeyEvent {
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : utf8.decode(raw));
  } catch {
    return { ok: false, error: 'payload is not JSON' };
  }
  if (isWellFormedV2(value)) return { ok: true, event: value };
  const result = readableKeyEventSchema.safeParse(value);
  if (!result.success) return { ok: false, error: z.prettifyError(result.error) };
  return { ok: true, event: result.data };
}

/** Serialises a key event (validated first, so a bad event never leaves the producer). */
export function encodeKeyEvent(event: KeyEvent): string {
  return JSON.stringify(keyEventSchema.parse(event));
}
