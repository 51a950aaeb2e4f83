/**
 * The key stream as a test reads it: created as the issuers create it, and every event on it
 * from its start, in stream order, pushed into an array the test keeps.
 */
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { ensureKeyStream, KEY_STREAM, parseKeyEvent, type KeyEvent, type NatsConnection } from '@akm/common';

const DAY = 86_400;

/** Creates the key stream (a year's key lifetime plus a day, as the issuers' default) and follows it from its start into `seen`. */
export async function followKeyStream(nc: NatsConnection, seen: KeyEvent[]): Promise<void> {
  await ensureKeyStream(nc, { maxAgeSeconds: 365 * DAY + DAY });
  const consumer = await jetstream(nc).consumers.get(KEY_STREAM, { deliver_policy: DeliverPolicy.All });
  await consumer.consume({
    callback: (msg) => {
      const parsed = parseKeyEvent(msg.data);
      if (parsed.ok) seen.push(parsed.event);
    },
  });
}
