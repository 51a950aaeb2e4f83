/**
 * Section 3: revocation propagation. For each key: revoke it at the issuer, and from the
 * moment the issuer answered 204 poll each of two verifier processes (back-to-back requests on
 * a kept-alive connection) until it refuses the key with 401 key_revoked. One revocation at a
 * time, so each is timed alone; the resolution is one poll round trip.
 */
import { performance } from 'node:perf_hooks';
import { createAgent, httpRequest } from './http-client.js';
import { revokeKey, type MintedKey } from './keys.js';
import type { Scope } from './scope.js';
import { startVerifierProcess } from './servers.js';
import { summarize, type LatencySummary } from './stats.js';

/** Options of {@link runRevocation}. */
export interface RevocationOptions {
  scope: Scope;
  issuerUrl: string;
  adminToken: string;
  natsUrl: string;
  redisUrl: string;
  /** Keys to revoke, already known to the stream. */
  keys: MintedKey[];
}

/** Propagation figures, milliseconds from the issuer's 204. */
export interface RevocationResult {
  revocations: number;
  /** Per verifier: until it refused the key. */
  perVerifier: LatencySummary[];
  /** Until both refused it. */
  both: LatencySummary;
  /** Median round trip of one poll (the resolution of the figures). */
  pollRoundTripMs: number;
}

/** Runs section 3 against two verifiers of its own. */
export async function runRevocation(options: RevocationOptions): Promise<RevocationResult> {
  const common = { issuerUrl: options.issuerUrl, natsUrl: options.natsUrl, redisUrl: options.redisUrl };
  const verifiers = [
    await startVerifierProcess(options.scope, { ...common, name: 'verifier A' }),
    await startVerifierProcess(options.scope, { ...common, name: 'verifier B' }),
  ];
  const agents = verifiers.map(() => createAgent(1));
  const issuerAgent = createAgent(1);
  options.scope.own(() => [...agents, issuerAgent].forEach((a) => a.destroy()));

  const status = async (i: number, key: string) => {
    const answer = await httpRequest(`${verifiers[i]!.url}/price?symbol=BTC`, {
      agent: agents[i],
      headers: { authorization: `Bearer ${key}` },
    });
    return answer.status === 401 && answer.text.includes('"key_revoked"') ? 'revoked' : answer.status;
  };

  // Every key must be served by both before it is revoked: its state is known to each.
  const roundTrips: number[] = [];
  for (const { key } of options.keys) {
    for (let i = 0; i < verifiers.length; i++) {
      const started = performance.now();
      const answer = await status(i, key);
      roundTrips.push(performance.now() - started);
      if (answer !== 200) throw new Error(`verifier ${i} answered ${answer} for a live key`);
    }
  }

  const perVerifier: number[][] = verifiers.map(() => []);
  const both: number[] = [];
  for (const { id, key } of options.keys) {
    await revokeKey(options.issuerUrl, options.adminToken, id, issuerAgent);
    const answeredAt = performance.now();
    const delays = await Promise.all(
      verifiers.map(async (_, i) => {
        for (;;) {
          if ((await status(i, key)) === 'revoked') return performance.now() - answeredAt;
          if (performance.now() - answeredAt > 10_000) throw new Error(`verifier ${i} still accepts ${id} after 10 s`);
        }
      }),
    );
    delays.forEach((d, i) => perVerifier[i]!.push(d));
    both.push(Math.max(...delays));
  }
  return {
    revocations: options.keys.length,
    perVerifier: perVerifier.map((samples) => summarize(samples)),
    both: summarize(both),
    pollRoundTripMs: summarize(roundTrips).p50,
  };
}
