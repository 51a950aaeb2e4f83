/**
 * docs/key-format.md, followed from Python: its PyJWT block, run as written by Debian's
 * /usr/bin/python3 (python3-jwt), against a real issuer and verifier. (The `python3` first on
 * PATH may be a pyenv one without Debian's packages.)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { waitFor } from '../support/processes.js';
import { useWiredVerifiers } from '../support/wired-verifier.js';

const DOC = resolve(import.meta.dirname, '../../docs/key-format.md');
const PYTHON = '/usr/bin/python3';

/** The doc's Python block, then a few lines that call it on the keys given as arguments. */
function scriptFromDoc(): string {
  const block = /```python\n([\s\S]*?)```/.exec(readFileSync(DOC, 'utf8'))?.[1];
  if (!block) throw new Error('docs/key-format.md has no python block');
  return `${block}
import sys

def outcome(call):
    try:
        return {"ok": call()}
    except jwt.PyJWTError as err:
        return {"error": type(err).__name__}

good, revoked, extended, session = sys.argv[1:5]
print(json.dumps({
    "good": outcome(lambda: check_signature(good)),
    "revoked": outcome(lambda: check_signature(revoked)),
    "extended": outcome(lambda: check_signature(extended)),
    "session": outcome(lambda: check_signature(session)),
    "askGood": ask_verifier(good),
    "askRevoked": ask_verifier(revoked, consume=False),
    "askExtended": ask_verifier(extended, consume=False),
}))
`;
}

function runPython(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(PYTHON, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

describe('e2e: PyJWT over the JWKS, as docs/key-format.md says', () => {
  let skewMs = 0;
  const e2e = useWiredVerifiers({ name: 'pyjwt-verifier', issuer: { now: () => Date.now() + skewMs } });

  it('verifies a key exactly as written, and learns only from /v1/verify that a revoked key is revoked and that an extended key is alive', async function () {
    this.timeout(30_000);
    const { issuer, verifier } = e2e;
    const admin = async () => ({ Authorization: `Bearer ${await issuer.adminToken()}` });
    const mint = async (body: object) => {
      const res = await request(issuer.url).post('/admin/keys').set(await admin()).send({ sub: 'py', ...body });
      expect(res.status, res.text).to.equal(201);
      return res.body as { id: string; key: string };
    };
    // An admin key needs an owner who is an active admin user: the first admin.
    const good = await mint({ rateLimit: 5, role: 'admin', sub: 'admin' });
    const revoked = await mint({});
    expect((await request(issuer.url).delete(`/admin/keys/${revoked.id}`).set(await admin())).status).to.equal(204);
    // Issued two hours ago for one hour (its signed exp has passed), then extended by a day.
    skewMs = -2 * 3600_000;
    const extended = await mint({ ttl: 3600 });
    skewMs = 0;
    const later = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const patched = await request(issuer.url).patch(`/admin/keys/${extended.id}`).set(await admin()).send({ expiresAt: later });
    expect(patched.status, patched.text).to.equal(200);
    const session = await issuer.adminToken();
    await issuer.relay.flush(5000);
    const verify = (key: string) => request(verifier.service.url).post('/v1/verify').send({ key, consume: false });
    await waitFor(async () => (await verify(revoked.key)).body.code === 'key_revoked' && (await verify(extended.key)).body.valid === true, 5000);

    const dir = mkdtempSync(join(tmpdir(), 'akm-pyjwt-script-'));
    try {
      const script = join(dir, 'check.py');
      writeFileSync(script, scriptFromDoc());
      // Not spawnSync: the issuer and verifier answer from this very process.
      const run = await runPython(script, [good.key, revoked.key, extended.key, session], {
        PATH: '/usr/bin:/bin', AKM_ISSUER_URL: issuer.url, AKM_VERIFIER_URL: verifier.service.url,
      });
      expect(run.status, `python failed:\n${run.stderr}`).to.equal(0);
      const out = JSON.parse(run.stdout) as Record<string, Record<string, any>>;

      expect(out.good!.ok, JSON.stringify(out.good)).to.include({ sub: 'admin', jti: good.id, role: 'admin', rate_limit: 5, iss: 'akm', aud: 'akm-api' });
      expect(out.revoked!.ok, 'PyJWT alone accepts a revoked key').to.include({ jti: revoked.id });
      expect(out.extended, 'PyJWT alone refuses a key whose expiry was extended').to.deep.equal({ error: 'ExpiredSignatureError' });
      expect(out.session, 'a sign-in token is no API key').to.deep.equal({ error: 'InvalidTokenError' });

      expect(out.askGood).to.deep.include({ valid: true, keyId: good.id, sub: 'admin', role: 'admin', limit: 5, remaining: 4 });
      expect(out.askRevoked).to.deep.include({ valid: false, code: 'key_revoked' });
      expect(out.askExtended).to.deep.include({ valid: true, keyId: extended.id, expiresAt: new Date(later).toISOString() });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
