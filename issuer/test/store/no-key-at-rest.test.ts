import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { startTestIssuer } from '../support/issuer-fixture.js';

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
});
