import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { verifyChain } from '../../src/audit/verify';
import { FakeGoogle } from '../../testkit/fake-google';
import { FakeOAuth } from '../../testkit/fake-oauth';
import { type TestBridge, bridgeFor } from '../../testkit/harness';
import { vaultEnv, vaultKeyFile } from '../../testkit/vault';

const SUB = '110169484474386276334';
const UID = `google:${SUB}`;

/** A real bridge (createApp over the fake Google and OAuth) writing its audit trail to a fresh file. */
describe('the audit trail of a real bridge', () => {
  let fake: FakeGoogle;
  let oauth: FakeOAuth;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    oauth = await FakeOAuth.start();
  });
  afterAll(async () => {
    await Promise.all([fake.close(), oauth.close()]);
  });

  async function bridgeWithAudit(extra: Record<string, string> = {}): Promise<{ bridge: TestBridge; file: string }> {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'firebridge-audit-http-')), 'data', 'audit.log');
    const keysFile = vaultKeyFile();
    const bridge = bridgeFor(fake, { env: { ...vaultEnv(oauth, keysFile), AUDIT_LOG: file, TRUST_PROXY: 'loopback', ...extra } });
    await bridge.deps.googleVault?.start(keysFile);
    return { bridge, file };
  }
  const events = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

  it('records exchanges (ok and refused), the link and the unlink with uid, sub, azp, IP and reason; never a token, code or email', async () => {
    const { bridge, file } = await bridgeWithAudit();
    try {
      const idToken = await fake.googleIdToken();
      const code = oauth.issueCode({ sub: SUB });
      const ok = await request(bridge.app)
        .post('/v1/token/google')
        .set('X-Forwarded-For', '203.0.113.7')
        .send({ idToken, serverAuthCode: code })
        .expect(200);
      expect(ok.body.google).toMatchObject({ linked: true });
      // The same token again: refused as a replay; a token for another audience: refused before any claim is trusted.
      await request(bridge.app).post('/v1/token/google').send({ idToken }).expect(401);
      await request(bridge.app)
        .post('/v1/token/google')
        .send({ idToken: await fake.googleIdToken({ aud: 'someone-else.apps.googleusercontent.com', sub: '999' }) })
        .expect(401);
      const bearer = `Bearer ${await fake.firebaseIdToken({ sub: UID, user_id: UID })}`;
      await request(bridge.app).delete('/v1/google/link').set('Authorization', bearer).expect(204);
      expect(await bridge.deps.audit.flush()).toBe(true);

      const text = readFileSync(file, 'utf8');
      const secrets = [idToken, ok.body.customToken as string, code, ...oauth.refreshTokens.keys(), bearer.slice(7)];
      for (const secret of secrets) expect(text).not.toContain(secret);
      expect(text).not.toContain('ada@example.com');
      expect(text).not.toMatch(/eyJ|ya29\./);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(await verifyChain(file)).toMatchObject({ ok: true });

      const trail = events(file).map(({ seq: _s, time: _t, prev: _p, hash: _h, ...rest }) => rest);
      expect(trail).toEqual([
        expect.objectContaining({ event: 'key.load', mode: 'key-file' }),
        { event: 'token.exchange', outcome: 'ok', uid: UID, sub: SUB, azp: 'android-client.apps.googleusercontent.com', ip: '203.0.113.7', linkRequested: true },
        expect.objectContaining({ event: 'vault.link', outcome: 'ok', uid: UID, sub: SUB, ip: '203.0.113.7', scopes: expect.any(Array) }),
        expect.objectContaining({ event: 'token.exchange', outcome: 'refused', reason: 'ERR_TOKEN_REPLAYED', uid: UID, sub: SUB }),
        { event: 'token.exchange', outcome: 'refused', reason: 'ERR_CLAIM_AUD', ip: expect.any(String) },
        { event: 'vault.unlink', outcome: 'ok', uid: UID, ip: expect.any(String), via: 'api' },
      ]);
    } finally {
      await bridge.deps.googleVault?.close();
      await bridge.deps.audit.close();
    }
  });

  it('AUDIT_INCLUDE_EMAIL=true writes the verified email of an exchange', async () => {
    const { bridge, file } = await bridgeWithAudit({ AUDIT_INCLUDE_EMAIL: 'true' });
    try {
      await request(bridge.app).post('/v1/token/google').send({ idToken: await fake.googleIdToken() }).expect(200);
      await bridge.deps.audit.flush();
      expect(events(file).find((e) => e.event === 'token.exchange')).toMatchObject({ outcome: 'ok', email: 'ada@example.com' });
    } finally {
      await bridge.deps.googleVault?.close();
      await bridge.deps.audit.close();
    }
  });
});
