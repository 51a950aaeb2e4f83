import { expect } from 'chai';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { startTestIssuer, type TestIssuer } from '../support/issuer-fixture.js';

const show = (res: request.Response) => JSON.stringify(res.body);

describe('issuer: first start without AKM_ADMIN_PASSWORD', () => {
  const started: TestIssuer[] = [];
  let shown: Array<{ password: string; file: string; firstStart: boolean }>;
  let dataDir: string;
  const start = async () => {
    const issuer = await startTestIssuer({
      ...(dataDir ? { dataDir } : {}),
      adminPassword: undefined,
      onGeneratedAdminPassword: (password, where) => shown.push({ password, ...where }),
    });
    started.push(issuer);
    dataDir = issuer.dataDir;
    return issuer;
  };
  const fileOf = () => join(dataDir, 'initial-admin-password');

  beforeEach(() => {
    shown = [];
    dataDir = '';
  });
  afterEach(async () => {
    // The first one owns the data directory: destroying it last removes the directory.
    for (const issuer of started.reverse()) await issuer.destroy();
    started.length = 0;
  });

  it('creates "admin" with a random password, shown and kept in initial-admin-password (0600), never logged', async () => {
    const issuer = await start();
    expect(shown).to.have.length(1);
    const [first] = shown;
    expect(first!.password.length).to.be.at.least(20);
    expect(first).to.include({ file: fileOf(), firstStart: true });
    expect(readFileSync(fileOf(), 'utf8').trim()).to.equal(first!.password);
    expect(statSync(fileOf()).mode & 0o777, 'mode of the file').to.equal(0o600);
    const res = await request(issuer.url).post('/auth/login').send({ username: 'admin', password: first!.password });
    expect(res.status, show(res)).to.equal(200);
    for (const line of issuer.logs) expect(line).to.not.include(first!.password);
  });

  it('shows the same password again on every start until someone signs in with it; then the file is gone and nothing is shown', async () => {
    const first = await start();
    await first.stop();
    const second = await start();
    expect(shown.map((s) => s.password), 'shown on the second start').to.deep.equal([shown[0]!.password, shown[0]!.password]);
    expect(shown[1]!.firstStart).to.equal(false);
    const res = await request(second.url).post('/auth/login').send({ username: 'admin', password: shown[0]!.password });
    expect(res.status, show(res)).to.equal(200);
    expect(existsSync(fileOf()), 'file removed at the first sign-in').to.equal(false);
    await second.stop();
    await start();
    expect(shown, 'nothing shown once it was used').to.have.length(2);
  });

  it('forgets the kept password once it no longer signs in (an admin changed it)', async () => {
    const issuer = await start();
    const changed = await request(issuer.url)
      .patch('/admin/users/admin')
      .set('Authorization', `Bearer ${issuer.admin}`)
      .send({ password: 'a password of my own choosing' });
    expect(changed.status, show(changed)).to.equal(200);
    expect(existsSync(fileOf()), 'file removed with the change').to.equal(false);
    await issuer.stop();
    await start();
    expect(shown, 'not shown again').to.have.length(1);
  });

  it('with AKM_ADMIN_PASSWORD, keeps no file and shows nothing', async () => {
    const issuer = await startTestIssuer({ onGeneratedAdminPassword: (password, where) => shown.push({ password, ...where }) });
    started.push(issuer);
    expect(shown).to.have.length(0);
    expect(existsSync(join(issuer.dataDir, 'initial-admin-password'))).to.equal(false);
  });
});
