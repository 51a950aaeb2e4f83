import { expect } from 'chai';
import request from 'supertest';
import { startTestIssuer, type TestIssuer } from '../support/issuer-fixture.js';

describe('issuer: the console at /console/', () => {
  let issuer: TestIssuer;
  before(async () => {
    issuer = await startTestIssuer();
  });
  after(async () => {
    await issuer.destroy();
  });

  it('serves the built page under a strict Content-Security-Policy, revalidated on every load', async () => {
    const res = await request(issuer.url).get('/console/');
    expect(res.status, res.text).to.equal(200);
    expect(res.type).to.equal('text/html');
    const csp = String(res.headers['content-security-policy']);
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "require-trusted-types-for 'script'",
    ]) {
      expect(csp, csp).to.include(directive);
    }
    expect(csp, 'nothing inline').not.to.match(/unsafe-inline|unsafe-eval/);
    expect(res.headers['cache-control']).to.equal('no-cache');
    expect(res.text, 'no inline script').not.to.match(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.text).not.to.match(/\sstyle=/);
  });

  it('serves its hashed assets to be cached for good, and answers 404 problem+json for a missing one', async () => {
    const page = (await request(issuer.url).get('/console/')).text;
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(page)?.[1];
    expect(script, page).to.be.a('string');
    const asset = await request(issuer.url).get(`/console/${script}`);
    expect(asset.status).to.equal(200);
    expect(asset.headers['cache-control']).to.equal('public, max-age=31536000, immutable');
    const missing = await request(issuer.url).get('/console/assets/nope.js');
    expect(missing.status).to.equal(404);
    expect(missing.body.code).to.equal('not_found');
  });

  it('sends /console to /console/, where its relative asset paths resolve', async () => {
    const res = await request(issuer.url).get('/console');
    expect(res.status).to.equal(301);
    expect(res.headers.location).to.equal('console/');
  });

  it('keeps helmet\'s own policy on the API', async () => {
    const res = await request(issuer.url).get('/healthz');
    expect(String(res.headers['content-security-policy'])).not.to.include('require-trusted-types-for');
  });
});
