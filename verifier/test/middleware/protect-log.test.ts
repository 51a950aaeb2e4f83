import { Writable } from 'node:stream';
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { createLogger, createMemoryKeyBus } from '@akm/common';
import { createVerifier, createStaticKeySource, verifiedKeyOf } from '../../src/index.js';
import { keyEvent } from '../support/key-events.js';
import { createSigner, signKey } from '../support/signing.js';

describe('verifier library: decision log in an app without akm request log', () => {
  it('writes its own "api key checked" line with key id, owner, outcome and latency', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const signer = await createSigner();
    const key = await signKey(signer, { sub: 'carol' });
    const bus = createMemoryKeyBus();
    await bus.publisher.publish(keyEvent(key, 'key.created', { version: 1 }));
    const verifier = createVerifier({
      keys: createStaticKeySource(signer.jwks),
      feed: bus.createFeed(),
      logger: createLogger({ name: 'orders', level: 'info', destination }),
    });
    const app = express();
    app.get('/orders', verifier.protect(), (_req, res) => void res.json({ owner: verifiedKeyOf(res).sub }));
    await verifier.start();

    const res = await request(app).get('/orders').set('Authorization', `Bearer ${key.token}`);

    expect(res.status, res.text).to.equal(200);
    const decisions = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'api key checked');
    expect(decisions, lines.join('\n')).to.have.length(1);
    expect(decisions[0]).to.include({ keyId: key.keyId, sub: 'carol', outcome: 'ok' });
    expect(decisions[0].latencyMs).to.be.a('number');
    expect(lines.join('\n')).not.to.include(key.token.split('.')[2]);
    await verifier.stop();
  });
});
