import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { FakeGoogle } from '../../testkit/fake-google';
import { FakeIdentityToolkit } from '../../testkit/fake-identity-toolkit';
import { bridgeFor } from '../../testkit/harness';
import { unsignedToken } from '../../testkit/jwt-forge';
import { spawnServer } from '../../testkit/spawn-server';

/**
 * The configured server with FIREBASE_AUTH_EMULATOR_HOST, against fakes (the real emulator:
 * test/e2e/auth-emulator/): what firebase-admin does with the emulator, wired end to end.
 */
const PROJECT = 'demo-firebridge-wiring';
const ADMIN_TOKEN = randomBytes(32).toString('base64url');
const UID = 'google:110169484474386276334';

function part(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function emulatorClaims(now = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  return {
    iss: `https://securetoken.google.com/${PROJECT}`,
    aud: PROJECT,
    auth_time: now - 5,
    user_id: UID,
    sub: UID,
    iat: now - 5,
    exp: now + 3595,
    firebase: { identities: {}, sign_in_provider: 'custom' },
  };
}

describe('FIREBASE_AUTH_EMULATOR_HOST, wired', () => {
  let fake: FakeGoogle;
  let emulator: FakeIdentityToolkit;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    // The emulator's Identity Toolkit: under /identitytoolkit.googleapis.com, bearer `owner` only.
    emulator = await FakeIdentityToolkit.start(PROJECT, (token) => token === 'owner', { pathPrefix: '/identitytoolkit.googleapis.com' });
  });
  afterAll(async () => {
    await Promise.all([fake.close(), emulator.close()]);
  });
  beforeEach(() => {
    emulator.calls.length = 0;
    emulator.users.clear();
    emulator.users.set(UID, {});
  });

  const bridge = (env: Record<string, string> = {}) =>
    bridgeFor(fake, {
      env: { FIREBASE_PROJECT_ID: PROJECT, FIREBASE_AUTH_EMULATOR_HOST: new URL(emulator.url).host, ...env },
    });

  it('custom tokens are unsigned, as firebase-admin\'s EmulatedSigner mints them; no key is needed to be ready', async () => {
    const { app, deps } = bridge();
    expect(deps.signing?.mode).toBe('emulator');
    expect((await request(app).get('/readyz')).status).toBe(200);
    const res = await request(app).post('/v1/token/google').send({ idToken: await fake.googleIdToken() });
    expect(res.status).toBe(200);
    const token = res.body.customToken as string;
    expect(part(token, 0)).toEqual({ alg: 'none', typ: 'JWT' });
    expect(token.split('.')[2]).toBe('');
    expect(part(token, 1)).toMatchObject({
      iss: 'firebase-auth-emulator@example.com',
      sub: 'firebase-auth-emulator@example.com',
      aud: 'https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit',
      uid: UID,
    });
  });

  it('an unsigned emulator ID token passes /v1/me without fetching securetoken\'s keys; the log says so once, at start', async () => {
    const before = fake.securetoken.hits;
    const { app, logs } = bridge();
    const token = unsignedToken(emulatorClaims());
    for (let i = 0; i < 3; i += 1) {
      const me = await request(app).get('/v1/me').set('Authorization', `Bearer ${token}`);
      expect(me.status).toBe(200);
      expect(me.body.uid).toBe(UID);
    }
    expect(fake.securetoken.hits).toBe(before);
    const warnings = logs.entries().filter((e) => String(e.msg).includes('WITHOUT a signature check'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, authEmulator: new URL(emulator.url).host, projectId: PROJECT });
    expect(logs.text).not.toContain(token);
    // Another project's unsigned token: refused by the aud check, which says so.
    const other = unsignedToken({ ...emulatorClaims(), aud: 'demo-other' });
    const refused = await request(app).get('/v1/me').set('Authorization', `Bearer ${other}`);
    expect(refused.status).toBe(401);
    expect(refused.body.error_description).not.toContain('FIREBASE_AUTH_EMULATOR_HOST');
  });

  it('a signed token is still signature-checked against securetoken\'s keys', async () => {
    const { app } = bridge();
    const signed = await fake.firebaseIdToken({}, { projectId: PROJECT });
    expect((await request(app).get('/v1/me').set('Authorization', `Bearer ${signed}`)).status).toBe(200);
    const forged = `${signed.slice(0, signed.lastIndexOf('.'))}.${Buffer.from('forged').toString('base64url')}`;
    const refused = await request(app).get('/v1/me').set('Authorization', `Bearer ${forged}`);
    expect(refused.status).toBe(401);
  });

  it('CHECK_REVOKED and admin revoke call the emulator\'s Identity Toolkit with the bearer owner', async () => {
    const { app } = bridge({ CHECK_REVOKED: 'true', REVOCATION_CACHE_SECONDS: '0', ADMIN_API_TOKEN: ADMIN_TOKEN });
    const now = Math.floor(Date.now() / 1000);
    const token = unsignedToken(emulatorClaims(now));
    expect((await request(app).get('/v1/me').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect(emulator.callsTo('lookup')).toEqual([
      { path: `/identitytoolkit.googleapis.com/v1/projects/${PROJECT}/accounts:lookup`, authorization: 'Bearer owner', body: { localId: [UID] } },
    ]);
    const revoke = await request(app).post('/v1/admin/revoke').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ uid: UID });
    expect(revoke.status).toBe(200);
    expect(emulator.callsTo('update')).toEqual([
      {
        path: `/identitytoolkit.googleapis.com/v1/projects/${PROJECT}/accounts:update`,
        authorization: 'Bearer owner',
        body: { localId: UID, validSince: String(revoke.body.validSince) },
      },
    ]);
    // A token from before the revoke is refused.
    emulator.users.set(UID, { validSince: now + 1 });
    const revoked = await request(app).get('/v1/me').set('Authorization', `Bearer ${token}`);
    expect(revoked.status).toBe(401);
    expect(revoked.body.error_description).toBe('the token has been revoked');
  });

  it('the server process starts with no key at all, warns once, is ready, and fetches no securetoken keys at start', async () => {
    const before = fake.securetoken.hits;
    const server = await spawnServer({
      NODE_ENV: 'development',
      FIREBASE_PROJECT_ID: PROJECT,
      GOOGLE_CLIENT_IDS: 'web-client.apps.googleusercontent.com',
      FIREBASE_AUTH_EMULATOR_HOST: new URL(emulator.url).host,
      KEYS_DIR: mkdtempSync(path.join(tmpdir(), 'firebridge-emu-nokeys-')),
      GOOGLE_CERTS_URL: fake.googleCertsUrl,
      FIREBASE_CERTS_URL: fake.firebaseCertsUrl,
    });
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      const me = await fetch(`${server.url}/v1/me`, { headers: { authorization: `Bearer ${unsignedToken(emulatorClaims())}` } });
      expect(me.status).toBe(200);
      expect(server.output().split('\n').filter((line) => line.includes('WITHOUT a signature check'))).toHaveLength(1);
      expect(fake.securetoken.hits).toBe(before);
    } finally {
      await server.stop();
    }
  }, 20_000);
});
