import { expect } from 'chai';
import request from 'supertest';
import { TEST_ADMIN_PASSWORD, useTestIssuer } from '../support/issuer-fixture.js';

const show = (res: request.Response) => `${res.status} ${JSON.stringify(res.headers)} ${res.text}`;

describe('issuer: Cache-Control', () => {
  const issuer = useTestIssuer({}, 'all');
  const api = () => ({ url: issuer().url, admin: `Bearer ${issuer().admin}` });

  it('answers that carry an API key or a sign-in token say no-store', async () => {
    const { url, admin } = api();
    const key = await request(url).post('/admin/keys').set('Authorization', admin).send({ sub: 'alice' });
    const login = await request(url).post('/auth/login').send({ username: 'admin', password: TEST_ADMIN_PASSWORD });

    for (const res of [key, login]) {
      expect(res.status, show(res)).to.be.oneOf([200, 201]);
      expect(res.headers['cache-control'], show(res)).to.equal('no-store');
    }
    expect(key.body.key, 'the answer does carry the key').to.be.a('string');
    expect(login.body.token, 'the answer does carry the token').to.be.a('string');
  });

  it('so do users, key metadata, the pool and refusals', async () => {
    const { url, admin } = api();
    const answers = [
      await request(url).get('/admin/keys').set('Authorization', admin),
      await request(url).get('/admin/users').set('Authorization', admin),
      await request(url).post('/pool/tokens').set('Authorization', admin).send({ count: 1 }),
      await request(url).get('/admin/keys'),
      await request(url).post('/auth/login').send({ username: 'admin', password: 'a wrong password' }),
    ];
    for (const res of answers) expect(res.headers['cache-control'], show(res)).to.equal('no-store');
  });

  it('the JWKS, public by design, stays cacheable for a minute', async () => {
    const res = await request(api().url).get('/.well-known/jwks.json');
    expect(res.headers['cache-control'], show(res)).to.equal('public, max-age=60');
  });
});
