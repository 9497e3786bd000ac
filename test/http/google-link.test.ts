import request from 'supertest';
import type { VaultRow } from '../../src/vault/repository';
import { SqliteVaultRepository } from '../../src/vault/sqlite';
import { FakeGoogle } from '../../testkit/fake-google';
import { FakeOAuth } from '../../testkit/fake-oauth';
import { type TestBridge, bridgeFor } from '../../testkit/harness';
import { vaultEnv, vaultKeyFile } from '../../testkit/vault';

const SUB = '110169484474386276334';
const UID = `google:${SUB}`;
const DRIVE = 'https://www.googleapis.com/auth/drive.file';

describe('account linking over HTTP', () => {
  let fake: FakeGoogle;
  let oauth: FakeOAuth;
  let bridge: TestBridge;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    oauth = await FakeOAuth.start();
  });
  afterAll(async () => {
    await Promise.all([fake.close(), oauth.close()]);
  });
  beforeEach(async () => {
    const keysFile = vaultKeyFile();
    bridge = bridgeFor(fake, { env: vaultEnv(oauth, keysFile) });
    await bridge.deps.googleVault?.start(keysFile);
  });
  afterEach(() => bridge.deps.googleVault?.close());

  const signIn = async (extra: Record<string, unknown>) =>
    request(bridge.app).post('/v1/token/google').send({ idToken: await fake.googleIdToken(), ...extra });
  const bearer = async (sub = UID) => `Bearer ${await fake.firebaseIdToken({ sub, user_id: sub })}`;

  it('POST /v1/token/google with a serverAuthCode: the custom token and "google": {linked, scopes}', async () => {
    const code = oauth.issueCode({ sub: SUB });
    const res = await signIn({ serverAuthCode: code });
    expect(res.status).toBe(200);
    expect(res.body.customToken).toEqual(expect.any(String));
    expect(res.body.google).toEqual({ linked: true, scopes: ['openid', DRIVE] });
    expect(oauth.redirectUris.at(-1)).toBe('');
    const refreshToken = [...oauth.refreshTokens.keys()].at(-1) as string;
    expect(bridge.logs.text).not.toContain(refreshToken);
    expect(bridge.logs.text).not.toContain(code);
  });

  it('without a serverAuthCode the reply has no "google"', async () => {
    const res = await signIn({});
    expect(res.status).toBe(200);
    expect(res.body).not.toHaveProperty('google');
  });

  it('a failed code exchange never fails the sign-in: invalid_grant, unavailable, account_mismatch, no_refresh_token', async () => {
    const spent = oauth.issueCode({ sub: SUB, withRefreshToken: false });
    oauth.usedCodes.add(spent);
    const refused = await signIn({ serverAuthCode: spent });
    expect(refused.status).toBe(200);
    expect(refused.body.customToken).toEqual(expect.any(String));
    expect(refused.body.google).toEqual({ linked: false, reason: 'invalid_grant' });
    oauth.failNext = 1;
    expect((await signIn({ serverAuthCode: oauth.issueCode({ sub: SUB }) })).body.google).toEqual({ linked: false, reason: 'unavailable' });
    expect((await signIn({ serverAuthCode: oauth.issueCode({ sub: SUB, idTokenSub: '1' }) })).body.google).toEqual({
      linked: false,
      reason: 'account_mismatch',
    });
    expect((await signIn({ serverAuthCode: oauth.issueCode({ sub: SUB, withRefreshToken: false }) })).body.google).toEqual({
      linked: false,
      reason: 'no_refresh_token',
    });
  });

  it('the web popup flow sends redirectUri "postmessage"; bad fields are 400', async () => {
    await signIn({ serverAuthCode: oauth.issueCode({ sub: SUB }), redirectUri: 'postmessage' });
    expect(oauth.redirectUris.at(-1)).toBe('postmessage');
    expect((await signIn({ serverAuthCode: 42 })).status).toBe(400);
    expect((await signIn({ serverAuthCode: '' })).status).toBe(400);
    expect((await signIn({ serverAuthCode: 'x', redirectUri: 7 })).status).toBe(400);
    expect((await signIn({ redirectUri: 'postmessage' })).status).toBe(400);
  });

  it('GET /v1/google/access-token: 401 without a token, 404 not_linked, 200, 403 insufficient_scope', async () => {
    expect((await request(bridge.app).get('/v1/google/access-token')).status).toBe(401);
    const none = await request(bridge.app).get('/v1/google/access-token').set('Authorization', await bearer());
    expect(none.status).toBe(404);
    expect(none.body.error).toBe('not_linked');
    await signIn({ serverAuthCode: oauth.issueCode({ sub: SUB }) });
    const ok = await request(bridge.app).get('/v1/google/access-token').query({ scope: DRIVE }).set('Authorization', await bearer());
    expect(ok.status).toBe(200);
    expect(Object.keys(ok.body).sort()).toEqual(['accessToken', 'expiresAt', 'scopes']);
    expect(ok.body.accessToken).toMatch(/^ya29\./);
    expect(ok.headers['cache-control']).toBe('no-store');
    const scope = await request(bridge.app)
      .get('/v1/google/access-token')
      .query({ scope: 'https://www.googleapis.com/auth/calendar' })
      .set('Authorization', await bearer());
    expect(scope.status).toBe(403);
    expect(scope.body.error).toBe('insufficient_scope');
  });

  it('invalid_grant on refresh → 409 reauth_required and the row is gone', async () => {
    await signIn({ serverAuthCode: oauth.issueCode({ sub: SUB }) });
    oauth.revokeAllOf(SUB);
    oauth.expiresIn = 60; // the link's access token is inside the last two minutes: a refresh is needed
    try {
      await signIn({ serverAuthCode: oauth.issueCode({ sub: SUB, withRefreshToken: false }) });
      const res = await request(bridge.app).get('/v1/google/access-token').set('Authorization', await bearer());
      expect(res.status).toBe(409);
      expect(res.body.error).toBe('reauth_required');
      const again = await request(bridge.app).get('/v1/google/access-token').set('Authorization', await bearer());
      expect(again.status).toBe(404);
    } finally {
      oauth.expiresIn = 3600;
    }
  });

  it('DELETE /v1/google/link revokes at Google and deletes → 204; again → 204', async () => {
    await signIn({ serverAuthCode: oauth.issueCode({ sub: SUB }) });
    const refreshToken = [...oauth.refreshTokens.keys()].at(-1) as string;
    expect((await request(bridge.app).delete('/v1/google/link').set('Authorization', await bearer())).status).toBe(204);
    expect(oauth.refreshTokens.get(refreshToken)?.revoked).toBe(true);
    expect((await request(bridge.app).get('/v1/google/access-token').set('Authorization', await bearer())).status).toBe(404);
    expect((await request(bridge.app).delete('/v1/google/link').set('Authorization', await bearer())).status).toBe(204);
    expect((await request(bridge.app).delete('/v1/google/link')).status).toBe(401);
  });

  it('a row moved onto another uid → 500 {"error": "vault_integrity"}, logged as an error', async () => {
    await signIn({ serverAuthCode: oauth.issueCode({ sub: SUB }) });
    // The same database file, as someone with access to it would see it.
    const repository = SqliteVaultRepository.inDataDir(bridge.config.vault?.dataDir as string);
    const row = (await repository.get(UID)) as VaultRow;
    await repository.put({ ...row, uid: 'google:999' });
    await repository.close();
    const res = await request(bridge.app).get('/v1/google/access-token').set('Authorization', await bearer('google:999'));
    expect(res.status).toBe(500);
    expect(res.body.error).toBe('vault_integrity');
    expect(bridge.logs.entries().some((e) => e.level === 50 && /vault integrity/.test(String(e.msg)))).toBe(true);
  });
});

describe('account linking not configured', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('a serverAuthCode is 400 invalid_request, never silently dropped; the vault routes do not exist', async () => {
    const bridge = bridgeFor(fake);
    expect(bridge.deps.googleVault).toBeUndefined();
    const res = await request(bridge.app).post('/v1/token/google').send({ idToken: await fake.googleIdToken(), serverAuthCode: '4/abc' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: '"serverAuthCode" was sent but account linking is not configured' });
    expect((await request(bridge.app).get('/v1/google/access-token')).status).toBe(404);
  });
});
