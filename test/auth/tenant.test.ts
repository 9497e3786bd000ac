import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt, jwtVerify } from 'jose';
import request from 'supertest';
import { customTokenPayload } from '../../src/auth/custom-token';
import { FirebaseIdTokenVerifier, firebaseIssuer } from '../../src/auth/firebase-id-token-verifier';
import { CustomTokenGenerator } from '../../src/auth/custom-token-generator';
import { KeyFileSigner } from '../../src/keys/key-file-signer';
import { parseServiceAccountKey } from '../../src/keys/service-account-key';
import { ConfigError, type ConfiguredConfig, loadConfig } from '../../src/config';
import { createApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { createDependencies } from '../../src/compose/dependencies';
import { expectInvalidToken, joseToken, staticCache } from '../../testkit/jwt-forge';
import { FakeGoogle, IDENTITY_TOOLKIT_AUDIENCE } from '../../testkit/fake-google';
import { FakeIam } from '../../testkit/fake-iam';
import { FakeIdentityToolkit } from '../../testkit/fake-identity-toolkit';
import { LogCapture, bridgeFor, configuredEnv, keysDirWith, manualClock } from '../../testkit/harness';
import { type TestKey, generateTestKey } from '../../testkit/keys';

const TENANT = 'tenant-1-abcde';
const PROJECT = 'fb-test-project';
const NOW_MS = 1_750_000_000_000;
const NOW = NOW_MS / 1000;

describe('FIREBASE_TENANT_ID (Identity Platform tenants)', () => {
  describe('the setting', () => {
    const env = (extra: Record<string, string>) => ({
      NODE_ENV: 'test',
      FIREBASE_PROJECT_ID: PROJECT,
      GOOGLE_CLIENT_IDS: 'web-client.apps.googleusercontent.com',
      ...extra,
    });
    const configError = (e: Record<string, string | undefined>) => {
      try {
        loadConfig(e);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return err as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };

    it('unset by default; a tenant ID of letters, digits and hyphens is taken', () => {
      expect((loadConfig(env({})) as ConfiguredConfig).tenantId).toBeUndefined();
      for (const id of [TENANT, 'Tenant2-xyz12', 't', 'a1']) expect((loadConfig(env({ FIREBASE_TENANT_ID: id })) as ConfiguredConfig).tenantId).toBe(id);
    });

    it.each([
      ...['tenant_1', 'tenant 1', '-tenant', 'tenant-', 'tenants/x', 'é-1'].map((id) => [JSON.stringify(id), id]),
      ['129 characters', 'a'.repeat(129)],
    ])('%s is refused, naming the setting', (_label, id) => {
      const err = configError(env({ FIREBASE_TENANT_ID: id }));
      expect(err.setting).toBe('FIREBASE_TENANT_ID');
      expect(err.message).toMatch(/tenant-1-abcde/);
    });

    it('is not local mode: with a tenant, a missing project is a mistake', () => {
      const err = configError({ NODE_ENV: 'development', FIREBASE_TENANT_ID: TENANT });
      expect(err.setting).toBe('FIREBASE_PROJECT_ID');
      expect(err.message).toMatch(/FIREBASE_TENANT_ID/);
    });
  });

  describe('the Firebase ID token verifier', () => {
    let key: TestKey;
    beforeAll(() => {
      key = generateTestKey();
    });
    const verifier = (tenantId?: string) => {
      const clock = manualClock(NOW_MS);
      return new FirebaseIdTokenVerifier({ keys: staticCache([key], clock), projectId: PROJECT, skewSeconds: 60, clock, tenantId });
    };
    const token = (firebase: unknown) =>
      joseToken(
        { iss: firebaseIssuer(PROJECT), aud: PROJECT, sub: 'u1', auth_time: NOW - 20, iat: NOW - 10, exp: NOW + 3590, firebase },
        key,
      );

    it('without FIREBASE_TENANT_ID: project users pass, any tenant\'s tokens are refused', async () => {
      await expect(verifier().verify(await token({ sign_in_provider: 'custom' }))).resolves.toMatchObject({ uid: 'u1' });
      for (const tenant of [TENANT, '', null, 7]) {
        await expectInvalidToken(verifier().verify(await token({ sign_in_provider: 'custom', tenant })), 'ERR_CLAIM_TENANT');
      }
    });

    it('with FIREBASE_TENANT_ID: only its tenant passes; other tenants and no tenant are refused', async () => {
      const user = await verifier(TENANT).verify(await token({ sign_in_provider: 'custom', tenant: TENANT }));
      expect(user.claims.firebase).toEqual({ sign_in_provider: 'custom', tenant: TENANT });
      for (const firebase of [{ tenant: 'tenant-2-fghij' }, { tenant: 'TENANT-1-ABCDE' }, { sign_in_provider: 'custom' }, undefined, 'tenant-1-abcde', [TENANT]]) {
        const err = await expectInvalidToken(verifier(TENANT).verify(await token(firebase)), 'ERR_CLAIM_TENANT');
        expect(err.message).toMatch(/tenant/);
      }
    });
  });

  describe('custom tokens', () => {
    it('carry tenant_id at the top level of the payload (as TenantAwareAuth.createCustomToken), only with a tenant', () => {
      const email = `firebase-adminsdk-abcde@${PROJECT}.iam.gserviceaccount.com`;
      expect(customTokenPayload(email, 'u', { a: 1 }, NOW, TENANT)).toEqual({
        iss: email,
        sub: email,
        aud: IDENTITY_TOOLKIT_AUDIENCE,
        iat: NOW,
        exp: NOW + 3600,
        uid: 'u',
        claims: { a: 1 },
        tenant_id: TENANT,
      });
      expect(customTokenPayload(email, 'u', {}, NOW)).not.toHaveProperty('tenant_id');
    });
  });

  describe('end to end against the fake Google', () => {
    let fake: FakeGoogle;
    beforeAll(async () => {
      fake = await FakeGoogle.start();
    });
    afterAll(() => fake.close());

    async function signIn(customToken: string, tenantId?: string): Promise<string> {
      const res = await fetch(fake.signInWithCustomTokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: customToken, returnSecureToken: true, ...(tenantId ? { tenantId } : {}) }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { idToken: string }).idToken;
    }

    it('a tenant server mints tenant custom tokens; the tenant\'s ID tokens pass /v1/me, others do not', async () => {
      const account = fake.createServiceAccount();
      const { app } = bridgeFor(fake, { account, env: { FIREBASE_TENANT_ID: TENANT } });
      const exchange = await request(app).post('/v1/token/google').send({ idToken: await fake.googleIdToken() }).expect(200);
      const { payload } = await jwtVerify(exchange.body.customToken as string, account.key.publicKey, { audience: IDENTITY_TOOLKIT_AUDIENCE });
      expect(payload.tenant_id).toBe(TENANT);
      const idToken = await signIn(exchange.body.customToken as string, TENANT);
      expect(decodeJwt(idToken).firebase).toMatchObject({ tenant: TENANT });

      const me = await request(app).get('/v1/me').set('Authorization', `Bearer ${idToken}`).expect(200);
      expect(me.body.claims.firebase.tenant).toBe(TENANT);
      for (const other of [
        await fake.firebaseIdToken(), // the project's own users (no tenant)
        await fake.firebaseIdToken({ firebase: { identities: {}, sign_in_provider: 'custom', tenant: 'tenant-2-fghij' } }),
      ]) {
        const res = await request(app).get('/v1/me').set('Authorization', `Bearer ${other}`).expect(401);
        expect(res.body.error).toBe('invalid_token');
        expect(res.body.error_description).toMatch(/firebase\.tenant/);
      }
    });

    it('a server without FIREBASE_TENANT_ID refuses a tenant\'s ID token and mints no tenant_id', async () => {
      const { app } = bridgeFor(fake);
      const exchange = await request(app).post('/v1/token/google').send({ idToken: await fake.googleIdToken() }).expect(200);
      expect(decodeJwt(exchange.body.customToken as string)).not.toHaveProperty('tenant_id');
      const tenantToken = await fake.firebaseIdToken({ firebase: { identities: {}, sign_in_provider: 'custom', tenant: TENANT } });
      const res = await request(app).get('/v1/me').set('Authorization', `Bearer ${tenantToken}`).expect(401);
      expect(res.body.error_description).toMatch(/Identity Platform tenant/);
      await request(app).get('/v1/me').set('Authorization', `Bearer ${await signIn(exchange.body.customToken as string)}`).expect(200);
    });

    describe('with Identity Toolkit and keyless signing', () => {
      let iam: FakeIam;
      let toolkit: FakeIdentityToolkit;
      beforeAll(async () => {
        iam = await FakeIam.start(fake);
        toolkit = await FakeIdentityToolkit.start(fake.projectId, (t) => iam.issuedTokens.includes(t));
      });
      afterAll(async () => {
        await Promise.all([iam.close(), toolkit.close()]);
      });

      it('CHECK_REVOKED and the admin API look the tenant\'s users up in the tenant', async () => {
        const account = fake.createServiceAccount();
        iam.addKey(account.clientEmail, account.key);
        const { app } = bridgeFor(fake, {
          account,
          env: {
            FIREBASE_TENANT_ID: TENANT,
            CHECK_REVOKED: 'true',
            IDENTITY_TOOLKIT_URL: toolkit.url,
            GOOGLE_TOKEN_URL: iam.tokenUrl,
            ADMIN_API_TOKEN: 'admin-secret-0123456789-abcdefghijklmnop',
          },
        });
        toolkit.tenantUsers.set(TENANT, new Map([['t-user', {}]]));
        toolkit.users.set('t-user', { disabled: true }); // a project user of the same uid must not be the one asked about
        const now = Math.floor(Date.now() / 1000);
        const idToken = await fake.firebaseIdToken({
          sub: 't-user',
          user_id: 't-user',
          auth_time: now - 10,
          firebase: { identities: {}, sign_in_provider: 'custom', tenant: TENANT },
        });
        await request(app).get('/v1/me').set('Authorization', `Bearer ${idToken}`).expect(200);
        expect(toolkit.callsTo('lookup').map((c) => c.path)).toEqual([`/v1/projects/${fake.projectId}/tenants/${TENANT}/accounts:lookup`]);
        await request(app)
          .post('/v1/admin/revoke')
          .set('Authorization', 'Bearer admin-secret-0123456789-abcdefghijklmnop')
          .send({ uid: 't-user' })
          .expect(200);
        expect(toolkit.callsTo('update').map((c) => c.path)).toEqual([`/v1/projects/${fake.projectId}/tenants/${TENANT}/accounts:update`]);
      });

      it('keyless signing (signBlob) mints tenant custom tokens too', async () => {
        const bridge = fake.createServiceAccount(fake.projectId, 'bridge-tenant');
        iam.addKey(bridge.clientEmail, bridge.key);
        const adc = path.join(mkdtempSync(path.join(tmpdir(), 'firebridge-adc-')), 'adc.json');
        writeFileSync(adc, JSON.stringify(bridge.json), { mode: 0o600 });
        const config = loadConfig(
          configuredEnv(fake, keysDirWith(), {
            FIREBASE_TENANT_ID: TENANT,
            SERVICE_ACCOUNT_EMAIL: bridge.clientEmail,
            GOOGLE_APPLICATION_CREDENTIALS: adc,
            GOOGLE_TOKEN_URL: iam.tokenUrl,
            IAM_CREDENTIALS_API_URL: iam.url,
          }),
        ) as ConfiguredConfig;
        const deps = createDependencies(config, { logger: createLogger('silent', new LogCapture()), clock: Date.now, fetch: globalThis.fetch });
        expect(deps.signing?.mode).toBe('keyless');
        const res = await request(createApp(config, deps)).post('/v1/token/google').send({ idToken: await fake.googleIdToken() }).expect(200);
        const { payload } = await jwtVerify(res.body.customToken as string, bridge.key.publicKey, { audience: IDENTITY_TOOLKIT_AUDIENCE });
        expect(payload.tenant_id).toBe(TENANT);
        await deps.store.close();
      });
    });

    it('the key-file signer keeps the tenant across a key rotation (setKey)', async () => {
      const a = fake.createServiceAccount();
      const b = fake.createServiceAccount();
      const signer = new KeyFileSigner(parseServiceAccountKey(JSON.stringify(a.json), 'a.json'));
      const generator = new CustomTokenGenerator(signer, Date.now, TENANT);
      signer.setKey(parseServiceAccountKey(JSON.stringify(b.json), 'b.json'));
      const minted = await generator.mint('u', {});
      const { payload } = await jwtVerify(minted.customToken, b.key.publicKey, { audience: IDENTITY_TOOLKIT_AUDIENCE });
      expect(payload.tenant_id).toBe(TENANT);
    });
  });
});
