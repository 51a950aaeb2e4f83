import { expect } from 'chai';
import request from 'supertest';
import { startTestIssuer, TEST_ADMIN_PASSWORD, type TestIssuer } from '../support/issuer-fixture.js';

const show = (res: request.Response) => JSON.stringify(res.body);
const PASSWORD = 'a long enough password';

describe('issuer: sign-in brute-force guard', () => {
  let issuer: TestIssuer | undefined;
  afterEach(async () => {
    await issuer?.destroy();
    issuer = undefined;
  });
  const start = async (loginGuard: { perUser: number; perAddress: number; windowSeconds: number }) => {
    issuer = await startTestIssuer({ loginGuard });
    return issuer;
  };
  const login = (i: TestIssuer, username: string, password: string) =>
    request(i.url).post('/auth/login').send({ username, password });
  const addUser = (i: TestIssuer, username: string) =>
    request(i.url).post('/admin/users').set('Authorization', `Bearer ${i.admin}`).send({ username, password: PASSWORD, role: 'user' });
  const tally = (answers: request.Response[]) =>
    answers.reduce<Record<string, number>>((t, r) => ((t[`${r.status} ${r.body.code}`] = (t[`${r.status} ${r.body.code}`] ?? 0) + 1), t), {});

  it('when 20 wrong passwords for one user arrive at once, checks only as many as the limit and refuses the rest with 429', async () => {
    const i = await start({ perUser: 3, perAddress: 1000, windowSeconds: 60 });
    await addUser(i, 'erin');

    const answers = await Promise.all(Array.from({ length: 20 }, () => login(i, 'erin', 'a wrong guess!!')));

    expect(tally(answers)).to.deep.equal({ '401 invalid_credentials': 3, '429 too_many_attempts': 17 });
    const refused = answers.find((r) => r.status === 401)!;
    expect(refused.headers['www-authenticate'], 'RFC 7235: a 401 names its scheme').to.equal('Bearer realm="akm"');
    const right = await login(i, 'erin', PASSWORD);
    expect(right.status, show(right)).to.equal(429);
    expect(Number(right.headers['retry-after'])).to.be.within(1, 60);
  });

  it('when one address fails for many user names, refuses that address with 429 whatever the name or password', async () => {
    const i = await start({ perUser: 100, perAddress: 4, windowSeconds: 60 });
    for (let n = 0; n < 4; n++) {
      const res = await login(i, `nobody${n}`, 'a wrong guess!!');
      expect(res.status, show(res)).to.equal(401);
    }

    const blocked = await login(i, 'admin', TEST_ADMIN_PASSWORD);

    expect(blocked.status, show(blocked)).to.equal(429);
    expect(blocked.body.code).to.equal('too_many_attempts');
    expect(Number(blocked.headers['retry-after'])).to.be.within(1, 60);
  });

  it('when sign-ins succeed, does not count them against the address or the user', async () => {
    const i = await start({ perUser: 2, perAddress: 3, windowSeconds: 60 });

    for (let n = 0; n < 10; n++) {
      const res = await login(i, 'admin', TEST_ADMIN_PASSWORD);
      expect(res.status, `sign-in ${n + 1}: ${show(res)}`).to.equal(200);
    }
    // A success also clears the user's earlier failures.
    expect((await login(i, 'admin', 'a wrong guess!!')).status).to.equal(401);
    expect((await login(i, 'admin', TEST_ADMIN_PASSWORD)).status).to.equal(200);
    expect((await login(i, 'admin', 'a wrong guess!!')).status).to.equal(401);
    expect((await login(i, 'admin', TEST_ADMIN_PASSWORD)).status).to.equal(200);
  });

  it('lifts the block once the window has passed', async () => {
    const i = await start({ perUser: 1, perAddress: 1000, windowSeconds: 1 });
    expect((await login(i, 'admin', 'a wrong guess!!')).status).to.equal(401);
    expect((await login(i, 'admin', TEST_ADMIN_PASSWORD)).status).to.equal(429);

    // rate-limiter-flexible's memory store reads the real clock; its window here is one second.
    await new Promise((r) => setTimeout(r, 1100));

    const res = await login(i, 'admin', TEST_ADMIN_PASSWORD);
    expect(res.status, show(res)).to.equal(200);
  });
});
