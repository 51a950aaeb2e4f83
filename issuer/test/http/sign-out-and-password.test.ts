import { expect } from 'chai';
import request from 'supertest';
import { useTestIssuer } from '../support/issuer-fixture.js';

const show = (res: request.Response) => `${res.status} ${JSON.stringify(res.body)}`;
const PASSWORD = 'a long enough password';
const NEW_PASSWORD = 'another long password';

describe('issuer: a user signs out and changes their own password', () => {
  const issuer = useTestIssuer({ loginGuard: { perUserAddress: 3, perAddress: 1000, windowSeconds: 60 } });
  beforeEach(async () => {
    await request(issuer().url).post('/admin/users').set('Authorization', `Bearer ${issuer().admin}`).send({ username: 'rita', password: PASSWORD });
  });
  const signIn = async (password = PASSWORD) => {
    const res = await request(issuer().url).post('/auth/login').send({ username: 'rita', password });
    expect(res.status, show(res)).to.equal(200);
    return `Bearer ${res.body.token}`;
  };
  const me = (auth: string) => request(issuer().url).get('/me').set('Authorization', auth);

  it('signing out ends this sign-in token at once and for good, and leaves the user\'s other sign-ins working', async () => {
    const cli = await signIn();
    const browser = await signIn();
    const out = await request(issuer().url).post('/auth/logout').set('Authorization', cli);
    expect(out.status, show(out)).to.equal(204);
    const after = await me(cli);
    expect([after.status, after.body.code], show(after)).to.deep.equal([401, 'invalid_token']);
    expect((await me(browser)).status, 'another sign-in of the same user').to.equal(200);
    const again = await request(issuer().url).post('/auth/logout').set('Authorization', cli);
    expect(again.status, 'an ended token cannot sign out again').to.equal(401);
  });

  it('signing out everywhere ends every sign-in of the user; signing in again works', async () => {
    const cli = await signIn();
    const browser = await signIn();
    const out = await request(issuer().url).post('/auth/logout').set('Authorization', cli).send({ everywhere: true });
    expect(out.status, show(out)).to.equal(204);
    expect((await me(cli)).status).to.equal(401);
    expect((await me(browser)).status).to.equal(401);
    expect((await me(await signIn())).status).to.equal(200);
  });

  it('the data directory\'s admin token can be ended, but not "everywhere" (it belongs to no user)', async () => {
    const token = `Bearer ${await issuer().adminToken()}`;
    const everywhere = await request(issuer().url).post('/auth/logout').set('Authorization', token).send({ everywhere: true });
    expect([everywhere.status, everywhere.body.code], show(everywhere)).to.deep.equal([409, 'conflict']);
    expect((await request(issuer().url).get('/admin/keys').set('Authorization', token)).status, 'still valid').to.equal(200);
    expect((await request(issuer().url).post('/auth/logout').set('Authorization', token)).status).to.equal(204);
    expect((await request(issuer().url).get('/admin/keys').set('Authorization', token)).status).to.equal(401);
  });

  it('an API key cannot sign out', async () => {
    const key = (await request(issuer().url).post('/admin/keys').set('Authorization', `Bearer ${issuer().admin}`).send({ sub: 'rita' })).body.key;
    const res = await request(issuer().url).post('/auth/logout').set('Authorization', `Bearer ${key}`);
    expect([res.status, res.body.code], show(res)).to.deep.equal([401, 'invalid_token']);
  });

  it('POST /me/password with the current password sets the new one, ends earlier sign-ins and answers a new sign-in token', async () => {
    const other = await signIn();
    const auth = await signIn();
    const res = await request(issuer().url).post('/me/password').set('Authorization', auth).send({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(res.status, show(res)).to.equal(200);
    expect(res.body).to.include({ tokenType: 'Bearer', username: 'rita', role: 'user' });
    expect(res.headers['cache-control']).to.equal('no-store');
    expect((await me(`Bearer ${res.body.token}`)).status, 'the new token works').to.equal(200);
    expect((await me(auth)).status, 'this earlier sign-in ended').to.equal(401);
    expect((await me(other)).status, 'every earlier sign-in ended').to.equal(401);
    const old = await request(issuer().url).post('/auth/login').send({ username: 'rita', password: PASSWORD });
    expect(old.status, 'the old password no longer signs in').to.equal(401);
    await signIn(NEW_PASSWORD);
    for (const line of issuer().logs) {
      expect(line).to.not.include(PASSWORD);
      expect(line).to.not.include(NEW_PASSWORD);
    }
  });

  it('a wrong current password is 400 naming currentPassword and changes nothing; repeated, it is held to the sign-in limits', async () => {
    const auth = await signIn();
    const wrong = () => request(issuer().url).post('/me/password').set('Authorization', auth).send({ currentPassword: 'not my password', newPassword: NEW_PASSWORD });
    const res = await wrong();
    expect([res.status, res.body.code], show(res)).to.deep.equal([400, 'validation_failed']);
    expect(res.body.errors).to.deep.equal([{ field: 'currentPassword', message: 'is not your current password' }]);
    expect((await me(auth)).status, 'nothing changed').to.equal(200);
    await wrong();
    await wrong();
    const limited = await wrong();
    expect([limited.status, limited.body.code], show(limited)).to.deep.equal([429, 'too_many_attempts']);
    const short = await request(issuer().url).post('/me/password').set('Authorization', auth).send({ currentPassword: PASSWORD, newPassword: 'short' });
    expect(short.status, show(short)).to.be.oneOf([400, 429]);
  });

  it('a new password that is too short is 400 naming newPassword', async () => {
    const res = await request(issuer().url).post('/me/password').set('Authorization', await signIn()).send({ currentPassword: PASSWORD, newPassword: 'short' });
    expect([res.status, res.body.code], show(res)).to.deep.equal([400, 'validation_failed']);
    expect(res.body.errors.map((e: { field: string }) => e.field)).to.deep.equal(['newPassword']);
  });
});
