/**
 * API keys for the benchmark, minted and revoked through the issuer's HTTP API like an admin
 * would, with a bounded number of requests in flight.
 */
import type { Agent } from 'node:http';
import { httpRequest, jsonOf } from './http-client.js';

/** A minted key: its id and the key string. */
export interface MintedKey {
  id: string;
  key: string;
}

/** Options of {@link mintKeys}. */
export interface MintKeysOptions {
  issuerUrl: string;
  adminToken: string;
  count: number;
  /** Requests per minute; high enough that no benchmark request is refused for its limit. */
  rateLimit?: number;
  /** Seconds. Default one day. */
  ttl?: number;
  /** Requests in flight. Default 16. */
  concurrency?: number;
  agent?: Agent;
}

/** Mints `count` keys through `POST /admin/keys`. */
export async function mintKeys(options: MintKeysOptions): Promise<MintedKey[]> {
  const keys: MintedKey[] = [];
  let issued = 0;
  const one = async (): Promise<void> => {
    while (issued < options.count) {
      issued++;
      const answer = await httpRequest(`${options.issuerUrl}/admin/keys`, {
        method: 'POST',
        agent: options.agent,
        headers: { authorization: `Bearer ${options.adminToken}` },
        json: { sub: `bench-${keys.length % 100}`, rateLimit: options.rateLimit ?? 1_000_000, ttl: options.ttl ?? 86_400 },
      });
      if (answer.status !== 201) throw new Error(`minting a key failed: HTTP ${answer.status} ${answer.text}`);
      const { id, key } = jsonOf<MintedKey>(answer);
      keys.push({ id, key });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, one));
  return keys;
}

/** Revokes a key through `DELETE /admin/keys/:id`; resolves when the issuer answered 204. */
export async function revokeKey(issuerUrl: string, adminToken: string, id: string, agent?: Agent): Promise<void> {
  const answer = await httpRequest(`${issuerUrl}/admin/keys/${id}`, {
    method: 'DELETE',
    agent,
    headers: { authorization: `Bearer ${adminToken}` },
  });
  if (answer.status !== 204) throw new Error(`revoking ${id} failed: HTTP ${answer.status} ${answer.text}`);
}

/** Waits until the issuer's outbox is empty (every event published to the stream). */
export async function waitForOutbox(issuerUrl: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = jsonOf<{ outboxBacklog: number }>(await httpRequest(`${issuerUrl}/readyz`));
    if (ready.outboxBacklog === 0) return;
    if (Date.now() > deadline) throw new Error(`issuer outbox still holds ${ready.outboxBacklog} events`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
