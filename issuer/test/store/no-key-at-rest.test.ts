import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { startTestIssuer, TEST_ADMIN_PASSWORD } from '../support/issuer-fixture.js';

describe('issuer: storage', () => {
  it('never stores a key string or its signature: a copy of the database reveals no usable key', async () => {
    const issuer = await startTestIssuer();
    try {
      const res = await request(issuer.url).post('/admin/keys').set('Authorization', `Bearer ${issuer.admin}`).send({ sub: 'alice' });
      expect(res.status).to.equal(201);
      await issuer.stop();
      const signature = res.body.key.split('.')[2] as string;
      const files = readdirSync(issuer.dataDir).filter((f) => f.startsWith('akm.sqlite'));
      expect(files).to.include('akm.sqlite');
      for (const f of files) {
        const bytes = readFileSync(join(issuer.dataDir, f)).toString('latin1');
        expect(bytes.includes(signature), `${f} holds the key signature`).to.equal(false);
        expect(bytes.includes(res.body.key), `${f} holds the key`).to.equal(false);
      }
      expect(readFileSync(join(issuer.dataDir, 'akm.sqlite')).toString('latin1')).to.include(res.body.id);
    } finally {
      await issuer.destroy();
    }
  });

  it('never stores a password: the users table holds salted scrypt hashes, different for two users with the same password', async () => {
    const issuer = await startTestIssuer();
    const password = 'the very same password';
    try {
      const admin = `Bearer ${issuer.admin}`;
      for (const username of ['twin-a', 'twin-b']) {
        const res = await request(issuer.url).post('/admin/users').set('Authorization', admin).send({ username, password });
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
        const login = await request(issuer.url).post('/auth/login').send({ username, password });
        expect(login.status, `${username} signs in with it: ${JSON.stringify(login.body)}`).to.equal(200);
      }
      const rows = await issuer.db.all<{ username: string; password_hash: string }>(
        "SELECT username, password_hash FROM users WHERE username LIKE 'twin-%' ORDER BY username",
      );
      expect(rows.map((r) => r.username)).to.deep.equal(['twin-a', 'twin-b']);
      const encodings = ['utf8', 'base64', 'base64url', 'hex'].map((e) => Buffer.from(password).toString(e as BufferEncoding));
      for (const row of rows) {
        for (const form of encodings) expect(row.password_hash, `${row.username}'s row`).to.not.include(form);
        expect(row.password_hash).to.match(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
      }
      const [a, b] = rows.map((r) => r.password_hash.split('$'));
      expect(a![4], 'a salt of its own per user').to.not.equal(b![4]);
      expect(a![5], 'so the same password hashes differently').to.not.equal(b![5]);

      await issuer.stop();
      for (const f of readdirSync(issuer.dataDir).filter((name) => name.startsWith('akm.sqlite'))) {
        const bytes = readFileSync(join(issuer.dataDir, f)).toString('latin1');
        expect(bytes.includes(password), `${f} holds the password`).to.equal(false);
        expect(bytes.includes(TEST_ADMIN_PASSWORD), `${f} holds the admin password`).to.equal(false);
      }
    } finally {
      await issuer.destroy();
    }
  });
});
