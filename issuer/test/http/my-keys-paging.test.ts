import { expect } from 'chai';
import request from 'supertest';
import { startTestIssuer, type TestIssuer } from '../support/issuer-fixture.js';

const show = (res: request.Response) => JSON.stringify(res.body);

describe('issuer: GET /me/keys pages through a user\'s own keys', () => {
  let issuer: TestIssuer;
  let token: string;
  beforeEach(async () => {
    issuer = await startTestIssuer();
    const admin = `Bearer ${issuer.admin}`;
    await request(issuer.url).post('/admin/users').set('Authorization', admin).send({ username: 'fay', password: 'a long enough password' });
    for (let i = 0; i < 5; i++) await request(issuer.url).post('/admin/keys').set('Authorization', admin).send({ sub: 'fay', name: `k${i}` });
    await request(issuer.url).post('/admin/keys').set('Authorization', admin).send({ sub: 'someone-else' });
    const login = await request(issuer.url).post('/auth/login').send({ username: 'fay', password: 'a long enough password' });
    token = `Bearer ${login.body.token}`;
  });
  afterEach(async () => {
    await issuer.destroy();
  });
  const page = (query: string) => request(issuer.url).get(`/me/keys${query}`).set('Authorization', token);

  it('with limit and the cursor it answered, gives every own key once, newest first', async () => {
    const names: string[] = [];
    let query = '?limit=2';
    for (let pages = 0; pages < 10; pages++) {
      const res = await page(query);
      expect(res.status, show(res)).to.equal(200);
      names.push(...res.body.items.map((k: { name: string }) => k.name));
      if (res.body.nextCursor === null) break;
      query = `?limit=2&cursor=${res.body.nextCursor}`;
    }
    expect(names).to.deep.equal(['k4', 'k3', 'k2', 'k1', 'k0']);
  });

  it('answers a cursor that is not one of its own, a bad limit or an unknown parameter with 400 naming it', async () => {
    for (const [query, field] of [
      ['?cursor=bm90LWEtbnVtYmVy', 'cursor'],
      ['?cursor=%21%21', 'cursor'],
      ['?limit=0', 'limit'],
      ['?limit=lots', 'limit'],
      ['?sub=someone-else', 'sub'],
    ] as const) {
      const res = await page(query);
      expect(res.status, `${query}: ${show(res)}`).to.equal(400);
      expect(res.body.code, `${query}: ${show(res)}`).to.equal('validation_failed');
      expect(JSON.stringify(res.body.errors), query).to.include(field);
    }
  });
});
