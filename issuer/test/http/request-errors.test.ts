import { expect } from 'chai';
import request from 'supertest';
import { useTestIssuer } from '../support/issuer-fixture.js';

const show = (res: request.Response) => `${res.status} ${JSON.stringify(res.body)}`;

describe('issuer: answers that say what to change', () => {
  const issuer = useTestIssuer({ pool: { maxTokens: 5 } }, 'all');
  const admin = () => `Bearer ${issuer().admin}`;

  for (const [method, path, allow] of [
    ['put', '/admin/keys', 'GET, HEAD, POST'],
    ['delete', '/admin/users', 'GET, HEAD, POST'],
    ['post', '/admin/keys/some-id', 'DELETE, GET, HEAD, PATCH'],
    ['get', '/auth/login', 'POST'],
    ['get', '/pool/assign', 'POST'],
    ['patch', '/pool/tokens/pt_abc', 'DELETE, GET, HEAD'],
    ['post', '/healthz', 'GET, HEAD'],
  ] as const) {
    it(`a wrong method on a known path (${method.toUpperCase()} ${path}) is 405 method_not_allowed with Allow: ${allow}`, async () => {
      const res = await request(issuer().url)[method](path).set('Authorization', admin());
      expect(res.status, show(res)).to.equal(405);
      expect(res.body.code).to.equal('method_not_allowed');
      expect(res.headers.allow).to.equal(allow);
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
    });
  }

  it('an unknown path is still 404, whatever the method', async () => {
    for (const method of ['get', 'post', 'delete'] as const) {
      const res = await request(issuer().url)[method]('/admin/nothing-here');
      expect([res.status, res.body.code], show(res)).to.deep.equal([404, 'not_found']);
    }
  });

  it('a body sent without Content-Type: application/json is 415 unsupported_media_type naming the header', async () => {
    const form = await request(issuer().url)
      .post('/admin/keys')
      .set('Authorization', admin())
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('{"sub":"alice"}');
    expect(form.status, show(form)).to.equal(415);
    expect(form.body.code).to.equal('unsupported_media_type');
    expect(form.body.detail).to.include('Content-Type: application/json').and.include('application/x-www-form-urlencoded');
    expect(form.headers['accept-post']).to.equal('application/json');
    const text = await request(issuer().url).patch('/admin/users/admin').set('Authorization', admin()).set('Content-Type', 'text/plain').send('{}');
    expect([text.status, text.body.code], show(text)).to.deep.equal([415, 'unsupported_media_type']);
    expect(text.headers['accept-patch']).to.equal('application/json');
  });

  it('a route that needs a body and got none says a JSON body is required', async () => {
    const res = await request(issuer().url).post('/admin/keys').set('Authorization', admin());
    expect([res.status, res.body.code], show(res)).to.deep.equal([400, 'validation_failed']);
    expect(res.body.detail).to.include('a JSON body is required, sent with Content-Type: application/json');
    expect(res.body.detail).to.not.include('undefined');
  });

  it('a route without a body still takes a bodiless POST, and a JSON body with a charset', async () => {
    const assign = await request(issuer().url).post('/pool/assign').set('Authorization', admin());
    expect(assign.status, show(assign)).to.be.oneOf([200, 404]);
    const charset = await request(issuer().url)
      .post('/admin/keys')
      .set('Authorization', admin())
      .set('Content-Type', 'application/json; charset=utf-8')
      .send(JSON.stringify({ sub: 'charset' }));
    expect(charset.status, show(charset)).to.equal(201);
  });

  it('an API key sent where a sign-in is needed says it is an API key; a sign-in token where a key is needed says so too', async () => {
    const key = (await request(issuer().url).post('/admin/keys').set('Authorization', admin()).send({ sub: 'polly' })).body.key as string;
    const asSignIn = await request(issuer().url).get('/admin/keys').set('Authorization', `Bearer ${key}`);
    expect([asSignIn.status, asSignIn.body.code], show(asSignIn)).to.deep.equal([401, 'invalid_token']);
    expect(asSignIn.body.detail).to.equal('this is an API key; this route needs a sign-in token (POST /auth/login)');
    const asKey = await request(issuer().url).post('/key/disable').set('Authorization', admin());
    expect([asKey.status, asKey.body.code], show(asKey)).to.deep.equal([401, 'invalid_key']);
    expect(asKey.body.detail).to.equal('this is a sign-in token; this route needs an API key');
    const garbage = await request(issuer().url).get('/admin/keys').set('Authorization', 'Bearer abc.def.ghi');
    expect(garbage.body.detail).to.equal('not a valid sign-in token');
  });

  it('pool_full says the maximum and the current size', async () => {
    const first = await request(issuer().url).post('/pool/tokens').set('Authorization', admin()).send({ count: 3 });
    expect(first.status, show(first)).to.equal(201);
    const full = await request(issuer().url).post('/pool/tokens').set('Authorization', admin()).send({ count: 3 });
    expect([full.status, full.body.code], show(full)).to.deep.equal([409, 'pool_full']);
    expect(full.body.detail).to.include('holds 3 of at most 5 tokens').and.include('at most 2 can be added');
  });
});
