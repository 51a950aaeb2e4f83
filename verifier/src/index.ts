/**
 * `@akm/verifier`: checks akm API keys offline in any Express service. This is the one entry
 * other services import; the verifier's own service is `@akm/verifier/service`.
 *
 * @example
 * import { connectNats, createJetStreamKeyFeed, createRemoteKeySource, createVerifier, verifiedKeyOf } from '@akm/verifier';
 *
 * const nc = await connectNats({ url: 'nats://localhost:4222', name: 'orders' });
 * const verifier = createVerifier({
 *   keys: createRemoteKeySource({ url: 'http://localhost:8080/.well-known/jwks.json' }),
 *   feed: createJetStreamKeyFeed({ nc }),
 * });
 * app.get('/orders', verifier.protect({ roles: ['user'] }), (_req, res) => res.json({ owner: verifiedKeyOf(res).sub }));
 * await verifier.start();
 */
export { createVerifier, DEFAULT_MAX_STALENESS_SECONDS } from './create-verifier.js';
export type { Verifier, VerifierOptions } from './create-verifier.js';
export type { KeyRefusal, Outcome, Refusal, Verdict, VerifiedKey } from './domain/verdict.js';
export type { AccessDecision, AccessOptions, AccessRefusal, CreditStanding } from './domain/access-decision.js';
export type { ReadinessReport } from './domain/readiness.js';
export { RATE_WINDOW_SECONDS } from './domain/rate-limiter.js';
export type { LimitDecision, RateLimiter, RateStanding, RateWindow } from './domain/rate-limiter.js';
export { creditsOf, rateWindowOf, rateWindowsOf, verifiedKeyOf } from './middleware/protect.js';
export type { ProtectOptions } from './middleware/protect.js';
export { rateLimitHeaders } from './middleware/rate-limit-headers.js';
export { FORWARD_AUTH_HEADERS } from './middleware/forward-auth.js';
export type { ForwardAuthOptions } from './middleware/forward-auth.js';
export { createJetStreamKeyFeed } from './consumers/jetstream-key-feed.js';
export type { JetStreamKeyFeedOptions } from './consumers/jetstream-key-feed.js';
export { createRemoteKeySource, createStaticKeySource, loadKeySourceFile } from './store/key-source.js';
export type { KeySource, RemoteKeySourceOptions } from './store/key-source.js';
export { createMemoryRateLimiter } from './store/memory-rate-limiter.js';
export type { MemoryRateLimiterOptions } from './store/memory-rate-limiter.js';
export { createRedisRateLimiter, REDIS_CLIENT_OPTIONS } from './store/redis-rate-limiter.js';
export type { RedisRateLimiterOptions } from './store/redis-rate-limiter.js';
export { createJetStreamUsagePublisher } from './store/jetstream-usage-publisher.js';
export type { JetStreamUsagePublisherOptions } from './store/jetstream-usage-publisher.js';
export { createVerifierMetrics } from './verifier-metrics.js';
export type { VerifierMetrics } from './verifier-metrics.js';
// So that one import suffices: the NATS connection the key feed needs, and the shapes it carries.
export { connectNats } from '@akm/common';
export type { ConnectNatsOptions, KeyEvent, KeyEventFeed, NatsConnection, Role, UsagePublisher, UsageReport } from '@akm/common';
