import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Request, Response } from 'express';
import request from 'supertest';
import { AppError, createLogger, metricsAccess, type TrustProxy } from '@akm/common';
import { startIssuer, type RunningIssuer } from '@akm/issuer';
import { createVerifierRuntime, type VerifierRuntime } from '@akm/verifier/service';
import { stopEach } from '../support/teardown.js';

const shown = (res: { status: number; text: string }) => `HTTP ${res.status}: ${res.text}`;
const silent = (name: string) => createLogger({ name, level: 'silent' });
const TOKEN = 'scrape-me-with-this-long-token';

interface Service {
  url: string;
  /** A line its metrics always have. */
  metric: RegExp;
}

/** An issuer and a verifier (on the issuer's in-process bus) with the same metrics settings. */
async function startBoth(settings: { metricsToken?: string; trustProxy?: TrustProxy }, stops: (() => unknown)[]) {
  const dataDir = mkdtempSync(join(tmpdir(), 'akm-metrics-'));
  stops.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const issuer: RunningIssuer = await startIssuer({ dataDir, port: 0, logger: silent('issuer'), onGeneratedAdminPassword: () => {}, ...settings });
  stops.unshift(() => issuer.stop());
  const verifier: VerifierRuntime = await createVerifierRuntime({
    issuerUrl: issuer.url,
    feed: issuer.memoryBus!.createFeed(),
    logger: silent('verifier'),
    ...settings,
  });
  stops.unshift(() => verifier.stop());
  await verifier.service.ready;
  return [
    { url: issuer.url, metric: /^akm_issuer_outbox_backlog \d+$/m },
    { url: verifier.service.url, metric: /^akm_verifier_key_state_entries \d+$/m },
  ] satisfies Service[];
}

describe('e2e: who may read /metrics (issuer and verifier)', () => {
  let stops: (() => unknown)[] = [];
  afterEach(async () => {
    const steps = stops;
    stops = [];
    await stopEach(...steps);
  });

  it('with METRICS_TOKEN: the bearer token is required, from anywhere; a missing one is 401, a wrong one 401 invalid_token', async () => {
    for (const { url, metric } of await startBoth({ metricsToken: TOKEN, trustProxy: 1 }, stops)) {
      const none = await request(url).get('/metrics');
      expect(none.status, shown(none)).to.equal(401);
      expect(none.body.code).to.equal('missing_credentials');
      expect(none.headers['www-authenticate']).to.match(/^Bearer/);
      const wrong = await request(url).get('/metrics').set('Authorization', `Bearer ${TOKEN}x`);
      expect(wrong.status, shown(wrong)).to.equal(401);
      expect(wrong.body.code).to.equal('invalid_token');

      const remote = await request(url).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).set('X-Forwarded-For', '203.0.113.5');

      expect(remote.status, shown(remote)).to.equal(200);
      expect(remote.text).to.match(metric);
    }
  });

  it('without METRICS_TOKEN: served to a client on this host, refused (403) to one a trusted proxy says is elsewhere', async () => {
    for (const { url, metric } of await startBoth({ trustProxy: 1 }, stops)) {
      const local = await request(url).get('/metrics');
      expect(local.status, shown(local)).to.equal(200);
      expect(local.text).to.match(metric);

      const forwarded = await request(url).get('/metrics').set('X-Forwarded-For', '203.0.113.5');

      expect(forwarded.status, shown(forwarded)).to.equal(403);
      expect(forwarded.body.code).to.equal('forbidden');
      expect(forwarded.text).to.not.match(metric);
    }
  });

  it('without METRICS_TOKEN, a peer that is not on this host is refused whatever its X-Forwarded-For says', () => {
    const guard = metricsAccess({});
    const ask = (peer: string, ip: string) => {
      const req = { socket: { remoteAddress: peer }, ip, get: () => undefined } as unknown as Request;
      let passed = false;
      try {
        guard(req, {} as Response, () => (passed = true));
      } catch (err) {
        expect(err).to.be.instanceOf(AppError);
        expect((err as AppError).code).to.equal('forbidden');
      }
      return passed;
    };
    expect(ask('127.0.0.1', '127.0.0.1')).to.equal(true);
    expect(ask('::1', '::1')).to.equal(true);
    expect(ask('::ffff:127.0.0.1', '::ffff:127.0.0.1')).to.equal(true);
    expect(ask('192.0.2.2', '192.0.2.2'), 'a peer on the network').to.equal(false);
    expect(ask('192.0.2.2', '127.0.0.1'), 'a peer on the network naming itself 127.0.0.1 to a trusting app').to.equal(false);
  });
});
