import { expect } from 'chai';
import request from 'supertest';
import type { RunningIssuer } from '@akm/issuer';
import { waitFor } from '../support/processes.js';
import type { RunningVerifier } from '@akm/verifier/service';
import { startWiredVerifier, useWiredVerifiers } from '../support/wired-verifier.js';

const shown = (res: { status: number; text: string }) => `HTTP ${res.status}: ${res.text}`;

describe('e2e: issuer and two verifiers over real NATS and Redis', () => {
  const e2e = useWiredVerifiers({ name: 'verifier', verifiers: 2, redis: true });
  let issuer: RunningIssuer;
  let adminToken: string;
  let verifiers: RunningVerifier[];
  before(async () => {
    issuer = e2e.issuer;
    adminToken = await issuer.adminToken();
    verifiers = e2e.verifiers.map((v) => v.service);
  });
  const admin = () => ({ Authorization: `Bearer ${adminToken}` });
  async function mint(rateLimit = 100): Promise<{ id: string; key: string }> {
    const res = await request(issuer.url).post('/admin/keys').set(admin()).send({ sub: 'carol', rateLimit });
    expect(res.status, shown(res)).to.equal(201);
    return res.body as { id: string; key: string };
  }
  const price = (v: RunningVerifier, key: string) =>
    request(v.url).get('/price?symbol=BTC').set('Authorization', `Bearer ${key}`);
  const everyVerifier = async (key: string, check: (res: request.Response) => boolean) =>
    (await Promise.all(verifiers.map((v) => price(v, key)))).every(check);

  it('a key minted without prices:read is refused /price by both verifiers with 403 insufficient_scope; its /key/info shows its scopes', async () => {
    const res = await request(issuer.url).post('/admin/keys').set(admin()).send({ sub: 'carol', scopes: ['orders:write'] });
    expect(res.status, shown(res)).to.equal(201);
    for (const v of verifiers) {
      const refused = await price(v, res.body.key);
      expect(refused.status, shown(refused)).to.equal(403);
      expect(refused.body.code, shown(refused)).to.equal('insufficient_scope');
      expect(refused.headers['www-authenticate']).to.contain('scope="prices:read"');
      const info = await request(v.url).get('/key/info').set('Authorization', `Bearer ${res.body.key}`);
      expect(info.body.scopes, shown(info)).to.deep.equal(['orders:write']);
    }
  });

  it('a rolled key: both keys served on both verifiers through the grace, the old one refused 401 key_revoked everywhere within a second of its end', async function () {
    this.timeout(15_000);
    const { id, key: oldKey } = await mint();
    const rolled = await request(issuer.url).post(`/admin/keys/${id}/roll`).set(admin()).send({ graceSeconds: 2 });
    expect(rolled.status, shown(rolled)).to.equal(201);
    const revokeAtMs = Date.parse((await request(issuer.url).get(`/admin/keys/${id}`).set(admin())).body.revokeAt);
    await waitFor(() => everyVerifier(rolled.body.key, (r) => r.status === 200), 2000);
    expect(await everyVerifier(oldKey, (r) => r.status === 200), 'the old key works during its grace').to.equal(true);

    await waitFor(() => everyVerifier(oldKey, (r) => r.status === 401 && r.body.code === 'key_revoked'), revokeAtMs - Date.now() + 1000, 20);
    expect(Date.now() - revokeAtMs, 'refused everywhere within a second of the end').to.be.below(1000);
    expect(await everyVerifier(rolled.body.key, (r) => r.status === 200), 'the new key still works').to.equal(true);
  });

  it('several limits and credits set at the issuer hold exactly across both verifiers under concurrency', async () => {
    const limits = [
      { name: 'burst', limit: 9, windowSeconds: 60 },
      { name: 'day', limit: 1000, windowSeconds: 86_400 },
    ];
    const res = await request(issuer.url).post('/admin/keys').set(admin()).send({ sub: 'carol', limits, credits: { remaining: 6 } });
    expect(res.status, shown(res)).to.equal(201);
    const key = res.body.key as string;
    await waitFor(async () => (await Promise.all(verifiers.map((v) => request(v.url).get('/key/info').set('Authorization', `Bearer ${key}`)))).every(
      (r) => r.status === 200 && r.body.credits?.remaining === 6,
    ), 2000);

    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => price(verifiers[i % 2]!, key)));
    const served = answers.filter((r) => r.status === 200).length;
    expect(served, 'exactly the credits').to.equal(6);
    for (const r of answers) expect(r.headers['ratelimit-policy'], shown(r)).to.equal('"burst";q=9;w=60, "day";q=1000;w=86400');
    expect(answers.filter((r) => r.status === 429).every((r) => r.body.code === 'credits_exhausted')).to.equal(true);

    // A top-up at the issuer: now the burst limit holds first (9 - 6 = 3 left in its window).
    await request(issuer.url).patch(`/admin/keys/${res.body.id}`).set(admin()).send({ credits: { remaining: 100 } });
    await waitFor(async () => (await request(verifiers[0]!.url).get('/key/info').set('Authorization', `Bearer ${key}`)).body.credits?.remaining === 100
      && (await request(verifiers[1]!.url).get('/key/info').set('Authorization', `Bearer ${key}`)).body.credits?.remaining === 100, 2000);
    const more = await Promise.all(Array.from({ length: 20 }, (_, i) => price(verifiers[i % 2]!, key)));
    expect(more.filter((r) => r.status === 200).length, 'the burst limit: 3 left').to.equal(3);
    expect(more.filter((r) => r.status === 429).every((r) => r.body.code === 'rate_limited')).to.equal(true);
  });

  it('a key minted by the issuer is accepted by both verifiers', async () => {
    const { key } = await mint();
    for (const v of verifiers) {
      const res = await price(v, key);
      expect(res.status, shown(res)).to.equal(200);
    }
  });

  it('a revoked key is refused by both verifiers within one second of the issuer\'s answer', async () => {
    const { id, key } = await mint();
    expect(await everyVerifier(key, (r) => r.status === 200)).to.equal(true);

    const revoked = await request(issuer.url).delete(`/admin/keys/${id}`).set(admin());
    expect(revoked.status, shown(revoked)).to.equal(204);
    const answeredAt = Date.now();
    await waitFor(() => everyVerifier(key, (r) => r.status === 401 && r.body.code === 'key_revoked'), 1000);

    expect(Date.now() - answeredAt).to.be.below(1000);
  });

  it('a disabled key is refused, and works again once re-enabled', async () => {
    const { id, key } = await mint();
    const disabled = await request(issuer.url).patch(`/admin/keys/${id}`).set(admin()).send({ status: 'disabled' });
    expect(disabled.status, shown(disabled)).to.equal(200);
    await waitFor(() => everyVerifier(key, (r) => r.status === 401 && r.body.code === 'key_disabled'), 1000);

    const enabled = await request(issuer.url).patch(`/admin/keys/${id}`).set(admin()).send({ status: 'active' });
    expect(enabled.status, shown(enabled)).to.equal(200);
    await waitFor(() => everyVerifier(key, (r) => r.status === 200), 1000);
  });

  it('a patched rate limit applies to the same key without a new one, counted across both verifiers', async () => {
    const { id, key } = await mint(100);
    const patched = await request(issuer.url).patch(`/admin/keys/${id}`).set(admin()).send({ rateLimit: 3 });
    expect(patched.status, shown(patched)).to.equal(200);
    await waitFor(async () => {
      const infos = await Promise.all(verifiers.map((v) => request(v.url).get('/key/info').set('Authorization', `Bearer ${key}`)));
      return infos.every((r) => r.body.rateLimit === 3);
    }, 1000);

    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await price(verifiers[i % 2]!, key));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length, answers.map(shown).join('\n')).to.equal(3);
    expect(statuses.filter((s) => s === 429).length, answers.map(shown).join('\n')).to.equal(3);
    expect(answers[0]!.headers['ratelimit-policy']).to.equal('"default";q=3;w=60');
  });

  it('a verifier started after 1,000 revocations at the issuer is not ready before it refuses every one of them', async function () {
    this.timeout(60_000);
    const keys: { id: string; key: string }[] = [];
    const inBatches = async <T>(items: T[], size: number, run: (item: T) => Promise<void>) => {
      for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
    };
    await inBatches([...Array(1000).keys()], 25, async () => void keys.push(await mint()));
    await inBatches(keys, 25, async ({ id }) => {
      const res = await request(issuer.url).delete(`/admin/keys/${id}`).set(admin());
      expect(res.status, shown(res)).to.equal(204);
    });
    await issuer.relay.flush(10_000);

    const wiredLate = await startWiredVerifier({ issuerUrl: issuer.url, natsUrl: e2e.nats.url, name: 'late-verifier' });
    const late = wiredLate.service;
    try {
      // Ask from the moment it listens: every answer is 503 until it is ready, and its first
      // answer that is not 503 already refuses the revoked key.
      let first: request.Response | undefined;
      await waitFor(async () => {
        const res = await price(late, keys[keys.length - 1]!.key);
        if (res.status === 503) {
          expect(res.body.code, shown(res)).to.equal('unavailable');
          return false;
        }
        first = res;
        return true;
      }, 30_000, 1);
      expect(first!.status, shown(first!)).to.equal(401);
      expect(first!.body.code).to.equal('key_revoked');
      await inBatches(keys, 50, async ({ key }) => {
        const res = await price(late, key);
        expect(res.status, shown(res)).to.equal(401);
        expect(res.body.code).to.equal('key_revoked');
      });
    } finally {
      await wiredLate.stop();
    }
  });
});
