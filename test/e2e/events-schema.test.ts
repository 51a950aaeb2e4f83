import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'chai';
import request from 'supertest';
import { connectNats, createLogger, KEY_STREAM, keySubject, type NatsConnection } from '@akm/common';
import { startIssuer, type RunningIssuer } from '@akm/issuer';
import { startNats, type TestServer } from '../support/processes.js';

const SCHEMA = resolve(import.meta.dirname, '../../docs/events.schema.json');

describe('e2e: the key events the issuer publishes match docs/events.schema.json', () => {
  let nats: TestServer;
  let dataDir: string;
  let issuer: RunningIssuer;
  let nc: NatsConnection;

  before(async () => {
    nats = await startNats({ owned: true });
    dataDir = mkdtempSync(join(tmpdir(), 'akm-events-'));
    issuer = await startIssuer({ dataDir, port: 0, natsUrl: nats.url, logger: createLogger({ name: 'issuer', level: 'silent' }), onGeneratedAdminPassword: () => {} });
    nc = await connectNats({ url: nats.url, name: 'events-schema-test' });
  });
  after(async () => {
    await nc?.close();
    await issuer?.stop();
    await nats?.destroy();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('one key per last change (created, updated, disabled, enabled, revoked): each raw payload on the stream validates, with times in seconds', async () => {
    const admin = { Authorization: `Bearer ${await issuer.adminToken()}` };
    const changes: Record<string, object[]> = {
      'key.created': [],
      'key.updated': [{ rateLimit: 7 }],
      'key.disabled': [{ status: 'disabled' }],
      'key.enabled': [{ status: 'disabled' }, { status: 'active' }],
      'key.revoked': [],
    };
    const ids: Record<string, string> = {};
    const startedS = Math.floor(Date.now() / 1000);
    for (const [type, patches] of Object.entries(changes)) {
      const created = await request(issuer.url).post('/admin/keys').set(admin).send({ sub: 'events', rateLimit: 5 });
      expect(created.status, created.text).to.equal(201);
      ids[type] = created.body.id;
      for (const patch of patches) expect((await request(issuer.url).patch(`/admin/keys/${created.body.id}`).set(admin).send(patch)).status).to.equal(200);
      if (type === 'key.revoked') expect((await request(issuer.url).delete(`/admin/keys/${created.body.id}`).set(admin)).status).to.equal(204);
    }
    expect(await issuer.relay.flush(5000)).to.equal(true);

    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(readFileSync(SCHEMA, 'utf8')));
    const jsm = await jetstreamManager(nc);
    for (const [type, id] of Object.entries(ids)) {
      const msg = await jsm.streams.getMessage(KEY_STREAM, { last_by_subj: keySubject(id) });
      const payload = JSON.parse(new TextDecoder().decode(msg!.data));
      expect(validate(payload), `${type}: ${JSON.stringify(validate.errors)}`).to.equal(true);
      expect(payload.type).to.equal(type);
      expect(payload.v).to.equal(2);
      expect(payload.at, 'at is in seconds').to.be.within(startedS - 1, Math.floor(Date.now() / 1000) + 1);
      expect(payload.expiresAt, 'expiresAt is in seconds').to.be.within(startedS, startedS + 400 * 86_400);
    }
    const withExtra = { ...JSON.parse(new TextDecoder().decode((await jsm.streams.getMessage(KEY_STREAM, { last_by_subj: keySubject(ids['key.created']!) }))!.data)), extra: 1 };
    expect(validate(withExtra), 'the schema refuses fields it does not name').to.equal(false);
  });
});
