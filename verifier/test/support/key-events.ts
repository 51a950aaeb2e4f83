/**
 * Publishing key events to a real JetStream stream, as the issuer's outbox relay does, on a
 * stream and subject prefix of the test's own.
 */
import { randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import {
  connectNats,
  encodeKeyEvent,
  ensureKeyStream,
  type KeyEvent,
  type KeyEventType,
  type MemoryKeyBus,
  type NatsConnection,
} from '@akm/common';
import { signKey, type KeySpec, type SignedKey, type TestSigner } from './signing.js';

/** A test's private key stream on a real nats-server. */
export interface TestStream {
  nc: NatsConnection;
  stream: string;
  subjects: string;
  /** Publishes one event, waiting for the JetStream ack. */
  publish(event: KeyEvent): Promise<void>;
  /** Publishes raw bytes on a key subject (for unparseable messages). */
  publishRaw(keyId: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Creates a uniquely named stream on the server at `natsUrl` and a connection to it. Its
 * subjects are unique too unless `prefix` is given (e.g. `akm.keys.` on a server of its own).
 */
export async function createTestStream(natsUrl: string, options: { prefix?: string } = {}): Promise<TestStream> {
  const nc = await connectNats({ url: natsUrl, name: 'verifier-test-publisher' });
  const tag = randomUUID().replaceAll('-', '').slice(0, 10);
  const stream = `AKM_KEYS_${tag}`;
  const prefix = options.prefix ?? `t${tag}.keys.`;
  await ensureKeyStream(nc, { maxAgeSeconds: 3600, stream, subjects: `${prefix}*` });
  const js = jetstream(nc);
  return {
    nc,
    stream,
    subjects: `${prefix}*`,
    async publish(event) {
      await js.publish(`${prefix}${event.keyId}`, encodeKeyEvent(event), { msgID: event.id });
    },
    async publishRaw(keyId, payload) {
      await js.publish(`${prefix}${keyId}`, payload, { msgID: randomUUID() });
    },
    close: () => nc.drain(),
  };
}

/** Builds the event of a change to `key`: the key's whole state after it. */
export function keyEvent(
  key: SignedKey,
  type: KeyEventType,
  state: Partial<Pick<KeyEvent, 'status' | 'rateLimit' | 'expiresAt' | 'role' | 'at' | 'limits' | 'credits'>> & { version: number },
): KeyEvent {
  const status = state.status ?? (type === 'key.revoked' ? 'revoked' : type === 'key.disabled' ? 'disabled' : 'active');
  return {
    v: 2,
    type,
    id: randomUUID(),
    keyId: key.keyId,
    sub: key.sub,
    role: state.role ?? 'user',
    status,
    rateLimit: state.rateLimit ?? key.rateLimit,
    expiresAt: state.expiresAt ?? key.exp,
    version: state.version,
    ...(state.limits ? { limits: state.limits } : {}),
    ...(state.credits ? { credits: state.credits } : {}),
    at: state.at ?? Math.floor(Date.now() / 1000),
  } as KeyEvent;
}

/** Signs a key and announces it on an in-process bus with its `key.created` event. */
export async function publishNewKey(bus: MemoryKeyBus, signer: TestSigner, spec: KeySpec = {}): Promise<SignedKey> {
  const key = await signKey(signer, spec);
  await bus.publisher.publish(keyEvent(key, 'key.created', { version: 1, role: spec.role ?? 'user' }));
  return key;
}
