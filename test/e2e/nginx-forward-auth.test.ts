import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import type { RunningIssuer } from '@akm/issuer';
import { startNginx, waitFor, type TestServer } from '../support/processes.js';
import { stopEach } from '../support/teardown.js';
import { useWiredVerifiers } from '../support/wired-verifier.js';

const shown = (res: { status: number; text: string }) => `HTTP ${res.status}: ${res.text}`;
const SNIPPETS = resolve(import.meta.dirname, '../../deploy/nginx');

/** A plain upstream in no way aware of akm: it answers with what it saw. */
interface Upstream {
  url: string;
  seen: { method: string; url: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

async function startUpstream(): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ hello: req.headers['x-akm-sub'] ?? null, role: req.headers['x-akm-role'] ?? null }));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

describe('e2e: a real nginx in front of a plain upstream, with the shipped akm snippets', () => {
  const e2e = useWiredVerifiers({ name: 'verifier-behind-nginx', redis: true });
  let issuer: RunningIssuer;
  let nginx: TestServer;
  let upstream: Upstream;
  let admin: { Authorization: string };

  before(async () => {
    issuer = e2e.issuer;
    upstream = await startUpstream();
    admin = { Authorization: `Bearer ${await issuer.adminToken()}` };
    const verifierHost = new URL(e2e.verifier.service.url).host;
    nginx = await startNginx({
      http: (port) => `
  upstream akm_verifier { server ${verifierHost}; }
  upstream app { server ${upstream.url}; }
  server {
    listen 127.0.0.1:${port};
    include ${SNIPPETS}/akm-auth.conf;
    location / {
      auth_request /_akm_auth;
      include ${SNIPPETS}/akm-protect.conf;
      proxy_pass http://app;
    }
    location /admin/ {
      auth_request /_akm_auth_admin;
      include ${SNIPPETS}/akm-protect.conf;
      proxy_pass http://app;
    }
  }`,
    });
  });
  after(() => stopEach(() => nginx?.destroy(), () => upstream?.close()));

  async function mint(body: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
    const res = await request(issuer.url).post('/admin/keys').set(admin).send({ sub: 'grace', rateLimit: 100, ...body });
    expect(res.status, shown(res)).to.equal(201);
    return res.body as { id: string; key: string };
  }
  const through = (path: string, key?: string) => {
    const req = request(nginx.url).get(path);
    return key === undefined ? req : req.set('Authorization', `Bearer ${key}`);
  };
  const seenCount = () => upstream.seen.length;

  it('with a valid key the upstream answers, and it sees who the key is (X-Akm-Sub, X-Akm-Role, X-Akm-Key-Id), never what the client claimed', async () => {
    const { id, key } = await mint({ sub: 'grace' });
    const before = seenCount();
    const res = await request(nginx.url).post('/orders?x=1').set('Authorization', `Bearer ${key}`).set('X-Akm-Sub', 'mallory').send({ a: 1 });
    expect(res.status, shown(res)).to.equal(200);
    expect(res.body).to.deep.equal({ hello: 'grace', role: 'user' });
    expect(res.headers['ratelimit-policy']).to.equal('"default";q=100;w=60');
    expect(res.headers.ratelimit).to.match(/^"default";r=99;t=\d+$/);
    expect(seenCount()).to.equal(before + 1);
    const last = upstream.seen.at(-1)!;
    expect(last.method).to.equal('POST');
    expect(last.url).to.equal('/orders?x=1');
    expect(last.headers['x-akm-key-id']).to.equal(id);
  });

  it('without a key answers 401 with WWW-Authenticate, and with a malformed one 400; the upstream sees neither', async () => {
    const before = seenCount();
    const none = await through('/orders');
    expect(none.status, shown(none)).to.equal(401);
    expect(none.headers['www-authenticate']).to.equal('Bearer realm="akm"');
    expect(none.type).to.equal('application/problem+json');
    const basic = await request(nginx.url).get('/orders').set('Authorization', 'Basic YTpi');
    expect(basic.status, shown(basic)).to.equal(400);
    expect(basic.headers['www-authenticate']).to.equal('Bearer realm="akm", error="invalid_request"');
    expect(seenCount()).to.equal(before);
  });

  it('a revoked key is refused 401 once the issuer revoked it, and the upstream never sees it again', async () => {
    const { id, key } = await mint();
    expect((await through('/orders', key)).status).to.equal(200);
    const revoked = await request(issuer.url).delete(`/admin/keys/${id}`).set(admin);
    expect(revoked.status, shown(revoked)).to.equal(204);
    await waitFor(async () => (await through('/orders', key)).status === 401, 2000);
    const before = seenCount();
    const res = await through('/orders', key);
    expect(res.status, shown(res)).to.equal(401);
    expect(res.headers['www-authenticate']).to.match(/error="invalid_token"/);
    expect(seenCount()).to.equal(before);
  });

  it('over the limit answers 429 with Retry-After and the RateLimit fields (not nginx\'s 500), and the upstream sees only the allowed requests', async () => {
    const { key } = await mint({ rateLimit: 3 });
    const before = seenCount();
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await through('/orders', key));
    expect(answers.map((r) => r.status), answers.map(shown).join('\n')).to.deep.equal([200, 200, 200, 429, 429]);
    const refused = answers[3]!;
    expect(Number(refused.headers['retry-after']), shown(refused)).to.be.within(1, 60);
    expect(refused.headers.ratelimit).to.match(/^"default";r=0;t=\d+$/);
    expect(refused.body.code, shown(refused)).to.equal('rate_limited');
    expect(seenCount()).to.equal(before + 3);
  });

  it('an admin-only location refuses a user key 403 and lets an admin key through', async () => {
    const user = await mint({ role: 'user' });
    // An admin key needs an owner who is an active admin user: the first admin.
    const adminKey = await mint({ role: 'admin', sub: 'admin' });
    const before = seenCount();
    const refused = await through('/admin/panel', user.key);
    expect(refused.status, shown(refused)).to.equal(403);
    expect(seenCount()).to.equal(before);
    const allowed = await through('/admin/panel', adminKey.key);
    expect(allowed.status, shown(allowed)).to.equal(200);
    expect(allowed.body).to.deep.equal({ hello: 'admin', role: 'admin' });
  });

  it('when the verifier cannot be reached, fails closed with 503 and the upstream sees nothing', async () => {
    const { key } = await mint();
    const down = await startNginx({
      http: (port) => `
  upstream akm_verifier { server 127.0.0.1:9; }
  upstream app { server ${upstream.url}; }
  server {
    listen 127.0.0.1:${port};
    include ${SNIPPETS}/akm-auth.conf;
    location / { auth_request /_akm_auth; include ${SNIPPETS}/akm-protect.conf; proxy_pass http://app; }
  }`,
    });
    try {
      const before = seenCount();
      const res = await request(down.url).get('/orders').set('Authorization', `Bearer ${key}`);
      expect(res.status, shown(res)).to.equal(503);
      expect(res.body.code).to.equal('unavailable');
      expect(seenCount()).to.equal(before);
    } finally {
      await down.destroy();
    }
  });

  it('nginx logged nothing worse than the unexpected auth statuses it was told to expect', () => {
    const log = readFileSync(join(nginx.dir, 'error.log'), 'utf8');
    expect(log).to.include('auth request unexpected status: 429');
    expect(log).not.to.match(/\[(emerg|alert|crit)\]/);
  });
});
