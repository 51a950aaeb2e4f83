import { expect } from 'chai';
import request from 'supertest';
import type { LoginGuardOptions } from '../../src/domain/login-guard.js';
import type { TrustProxy } from '@akm/common';
import { startTestIssuer, TEST_ADMIN_PASSWORD, type TestIssuer } from '../support/issuer-fixture.js';

const show = (res: request.Response) => JSON.stringify(res.body);
const PASSWORD = 'a long enough password';
const WRONG = 'a wrong guess!!';

describe('issuer: sign-in brute-force guard', () => {
  let issuer: TestIssuer | undefined;
  // The issuer's clock: the test moves it instead of sleeping through a window.
  let offsetMs = 0;
  beforeEach(() => {
    offsetMs = 0;
  });
  afterEach(async () => {
    await issuer?.destroy();
    issuer = undefined;
  });
  const start = async (loginGuard: LoginGuardOptions, trustProxy?: TrustProxy) => {
    issuer = await startTestIssuer({ loginGuard, now: () => Date.now() + offsetMs, ...(trustProxy === undefined ? {} : { trustProxy }) });
    return issuer;
  };
  /** A sign-in, from `from` (sent as X-Forwarded-For: only an issuer that trusts the proxy reads it). */
  const login = (i: TestIssuer, username: string, password: string, from?: string) => {
    const req = request(i.url).post('/auth/login');
    return (from ? req.set('X-Forwarded-For', from) : req).send({ username, password });
  };
  const addUser = (i: TestIssuer, username: string) =>
    request(i.url).post('/admin/users').set('Authorization', `Bearer ${i.admin}`).send({ username, password: PASSWORD, role: 'user' });
  const tally = (answers: request.Response[]) =>
    answers.reduce<Record<string, number>>((t, r) => ((t[`${r.status} ${r.body.code}`] = (t[`${r.status} ${r.body.code}`] ?? 0) + 1), t), {});
  const guardEntries = async (i: TestIssuer) => {
    const text = (await request(i.url).get('/metrics')).text;
    const line = /^akm_issuer_login_guard_entries (\d+)$/m.exec(text);
    expect(line, 'the guard reports its size as a metric').to.not.equal(null);
    return Number(line![1]);
  };

  it('when 20 wrong passwords for one user arrive at once, checks only as many as the limit and refuses the rest with 429', async () => {
    const i = await start({ perUserAddress: 3, perUser: 1000, perAddress: 1000, windowSeconds: 60 });
    await addUser(i, 'erin');

    const answers = await Promise.all(Array.from({ length: 20 }, () => login(i, 'erin', WRONG)));

    expect(tally(answers)).to.deep.equal({ '401 invalid_credentials': 3, '429 too_many_attempts': 17 });
    const refused = answers.find((r) => r.status === 401)!;
    expect(refused.headers['www-authenticate'], 'RFC 7235: a 401 names its scheme').to.equal('Bearer realm="akm"');
    const right = await login(i, 'erin', PASSWORD);
    expect(right.status, show(right)).to.equal(429);
    expect(Number(right.headers['retry-after'])).to.be.within(1, 60);
  });

  it('when one address fails for many user names, refuses that address with 429 whatever the name or password', async () => {
    const i = await start({ perUserAddress: 100, perUser: 100, perAddress: 4, windowSeconds: 60 });
    for (let n = 0; n < 4; n++) {
      const res = await login(i, `nobody${n}`, WRONG);
      expect(res.status, show(res)).to.equal(401);
    }

    const blocked = await login(i, 'admin', TEST_ADMIN_PASSWORD);

    expect(blocked.status, show(blocked)).to.equal(429);
    expect(blocked.body.code).to.equal('too_many_attempts');
    expect(Number(blocked.headers['retry-after'])).to.be.within(1, 60);
  });

  it('when sign-ins succeed, does not count them against the address or the user', async () => {
    const i = await start({ perUserAddress: 2, perUser: 2, perAddress: 3, windowSeconds: 60 });

    for (let n = 0; n < 10; n++) {
      const res = await login(i, 'admin', TEST_ADMIN_PASSWORD);
      expect(res.status, `sign-in ${n + 1}: ${show(res)}`).to.equal(200);
    }
    // A success also clears the user's earlier failures.
    expect((await login(i, 'admin', WRONG)).status).to.equal(401);
    expect((await login(i, 'admin', TEST_ADMIN_PASSWORD)).status).to.equal(200);
    expect((await login(i, 'admin', WRONG)).status).to.equal(401);
    expect((await login(i, 'admin', TEST_ADMIN_PASSWORD)).status).to.equal(200);
  });

  it('lifts the block once the window has passed', async () => {
    const i = await start({ perUserAddress: 1, windowSeconds: 60 });
    expect((await login(i, 'admin', WRONG)).status).to.equal(401);
    expect((await login(i, 'admin', TEST_ADMIN_PASSWORD)).status).to.equal(429);

    offsetMs += 60_000;

    const res = await login(i, 'admin', TEST_ADMIN_PASSWORD);
    expect(res.status, show(res)).to.equal(200);
  });

  describe('memory', () => {
    it('when 2,000 distinct 64-character names are tried from one address, holds no more entries than that address is allowed attempts', async () => {
      const i = await start({ perUserAddress: 5, perUser: 20, perAddress: 4, windowSeconds: 900 });
      const before = await guardEntries(i);
      const name = (n: number) => `${String(n).padStart(6, '0')}-${'x'.repeat(57)}`;

      for (let batch = 0; batch < 40; batch++) {
        const answers = await Promise.all(Array.from({ length: 50 }, (_, k) => login(i, name(batch * 50 + k), WRONG)));
        for (const res of answers) expect([401, 429], show(res)).to.include(res.status);
      }

      // One count for the address, and one per user name and one per (name, address) for the
      // four attempts it was allowed; the 1,996 refused ones created nothing.
      expect(await guardEntries(i)).to.equal(before + 1 + 4 + 4);
    });

    it('refuses a name longer than any user name (64) with 400 before counting anything', async () => {
      const i = await start({ perUserAddress: 5, perUser: 20, perAddress: 4, windowSeconds: 900 });
      const before = await guardEntries(i);

      const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => login(i, `${n}${'y'.repeat(250)}`, WRONG)));

      expect(tally(answers)).to.deep.equal({ '400 validation_failed': 20 });
      expect(await guardEntries(i)).to.equal(before);
      expect((await login(i, 'admin', TEST_ADMIN_PASSWORD)).status, 'the address was not charged').to.equal(200);
    });
  });

  describe('lockout keyed by user and address (X-Forwarded-For trusted from one proxy hop)', () => {
    const USUAL = '198.51.100.7';
    const limits = { perUserAddress: 5, perUser: 20, perAddress: 50, windowSeconds: 900 };

    it('an attacker failing from many addresses cannot lock a user out of the address they sign in from', async () => {
      const i = await start(limits, 1);
      await addUser(i, 'bob');
      expect((await login(i, 'bob', PASSWORD, USUAL)).status, 'bob signs in as usual').to.equal(200);

      // 8 addresses × 5 wrong guesses: past bob's ceiling of 20 for addresses he does not use.
      const attacks = [];
      for (let a = 1; a <= 8; a++) for (let n = 0; n < 5; n++) attacks.push(await login(i, 'bob', WRONG, `203.0.113.${a}`));
      expect(tally(attacks)).to.deep.equal({ '401 invalid_credentials': 20, '429 too_many_attempts': 20 });

      const usual = await login(i, 'bob', PASSWORD, USUAL);
      expect(usual.status, `bob at his usual address: ${show(usual)}`).to.equal(200);
      const elsewhere = await login(i, 'bob', PASSWORD, '192.0.2.50');
      expect(elsewhere.status, `bob at a new address meets the ceiling: ${show(elsewhere)}`).to.equal(429);
    });

    it('five failures for one user from one address lock that pair only: the user elsewhere and other users there still sign in', async () => {
      const i = await start(limits, 1);
      await addUser(i, 'bob');
      await addUser(i, 'carol');
      for (let n = 0; n < 5; n++) expect((await login(i, 'bob', WRONG, '203.0.113.9')).status).to.equal(401);

      const locked = await login(i, 'bob', PASSWORD, '203.0.113.9');
      expect(locked.status, show(locked)).to.equal(429);
      expect(locked.body.code).to.equal('too_many_attempts');
      expect((await login(i, 'bob', PASSWORD, USUAL)).status, 'bob from another address').to.equal(200);
      expect((await login(i, 'carol', PASSWORD, '203.0.113.9')).status, 'carol from the same address').to.equal(200);
    });

    it('a shared address full of failures still lets in a user who signed in from it before', async () => {
      const i = await start({ ...limits, perAddress: 4 }, 1);
      await addUser(i, 'bob');
      expect((await login(i, 'bob', PASSWORD, USUAL)).status).to.equal(200);
      for (let n = 0; n < 4; n++) expect((await login(i, `guess${n}`, WRONG, USUAL)).status).to.equal(401);

      expect((await login(i, 'admin', TEST_ADMIN_PASSWORD, USUAL)).status, 'a name new to the address').to.equal(429);
      expect((await login(i, 'bob', PASSWORD, USUAL)).status, 'bob, known at the address').to.equal(200);
    });

    it('without a trusted proxy, X-Forwarded-For is ignored: a client cannot escape its limit by naming other addresses', async () => {
      const i = await start(limits);
      await addUser(i, 'bob');
      for (let n = 0; n < 5; n++) expect((await login(i, 'bob', WRONG, `203.0.113.${n}`)).status).to.equal(401);

      const spoofed = await login(i, 'bob', PASSWORD, '192.0.2.99');

      expect(spoofed.status, show(spoofed)).to.equal(429);
    });

    it('counts the IPv6 addresses of one /64 as one address', async () => {
      const i = await start(limits, 1);
      await addUser(i, 'bob');
      for (let n = 1; n <= 5; n++) expect((await login(i, 'bob', WRONG, `2001:db8:0:7::${n.toString(16)}`)).status).to.equal(401);

      expect((await login(i, 'bob', PASSWORD, '2001:db8:0:7:ffff::1')).status, 'same /64').to.equal(429);
      expect((await login(i, 'bob', PASSWORD, '2001:db8:0:8::1')).status, 'another /64').to.equal(200);
    });
  });

  describe('lifting a lock', () => {
    const lockedOut = async () => {
      const i = await start({ perUserAddress: 3, perUser: 5, perAddress: 50, windowSeconds: 900 }, 1);
      await addUser(i, 'bob');
      // Locked at this address (pair) and, past the ceiling, at any new one.
      for (let a = 1; a <= 2; a++) for (let n = 0; n < 3; n++) await login(i, 'bob', WRONG, `203.0.113.${a}`);
      expect((await login(i, 'bob', PASSWORD, '203.0.113.1')).status).to.equal(429);
      expect((await login(i, 'bob', PASSWORD, '192.0.2.1')).status).to.equal(429);
      return i;
    };

    it('POST /admin/users/:name/unlock lifts every lock on the user at once (204)', async () => {
      const i = await lockedOut();

      const unlocked = await request(i.url).post('/admin/users/bob/unlock').set('Authorization', `Bearer ${i.admin}`);

      expect(unlocked.status, show(unlocked)).to.equal(204);
      expect((await login(i, 'bob', PASSWORD, '203.0.113.1')).status, 'the locked pair').to.equal(200);
      expect((await login(i, 'bob', PASSWORD, '192.0.2.1')).status, 'a new address').to.equal(200);
    });

    it('an admin password reset lifts the lock too; unlocking an unknown user is 404', async () => {
      const i = await lockedOut();
      const fresh = 'a brand new password';

      const reset = await request(i.url).patch('/admin/users/bob').set('Authorization', `Bearer ${i.admin}`).send({ password: fresh });

      expect(reset.status, show(reset)).to.equal(200);
      expect((await login(i, 'bob', fresh, '203.0.113.1')).status).to.equal(200);
      const unknown = await request(i.url).post('/admin/users/nobody/unlock').set('Authorization', `Bearer ${i.admin}`);
      expect(unknown.status, show(unknown)).to.equal(404);
      expect(unknown.body.code).to.equal('not_found');
    });

    it('changing only the role or status of a locked user does not lift the lock', async () => {
      const i = await lockedOut();

      await request(i.url).patch('/admin/users/bob').set('Authorization', `Bearer ${i.admin}`).send({ role: 'admin' });

      expect((await login(i, 'bob', PASSWORD, '203.0.113.1')).status).to.equal(429);
    });
  });
});
