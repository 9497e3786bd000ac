import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { ApplicationDefaultCredentials } from '../../src/google/credentials';
import { inspectKeyring } from '../../src/keys/keyring';
import { CustomTokenGenerator } from '../../src/auth/custom-token-generator';
import { GoogleApiClient } from '../../src/google/client';
import { IamSigner } from '../../src/google/iam-signer';
import { createLogger } from '../../src/logger';
import { SigningUnavailableError } from '../../src/errors';
import { FakeGoogle, IDENTITY_TOOLKIT_AUDIENCE, type TestServiceAccount } from '../../testkit/fake-google';
import { FakeIam } from '../../testkit/fake-iam';
import { LogCapture, keysDirWith, manualClock } from '../../testkit/harness';
import { auditEntries, keysCli } from '../../testkit/keys-cli';

describe('Google APIs: rotate --create, retire --delete-remote, keyless signBlob, ADC', () => {
  let fake: FakeGoogle;
  let iam: FakeIam;
  let admin: TestServiceAccount; // the admin's own ADC (a service account key file)
  let adminCredentials: string;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    iam = await FakeIam.start(fake);
    admin = fake.createServiceAccount(fake.projectId, 'key-admin');
    iam.addKey(admin.clientEmail, admin.key);
    adminCredentials = path.join(mkdtempSync(path.join(tmpdir(), 'firebridge-adc-')), 'adc.json');
    writeFileSync(adminCredentials, JSON.stringify(admin.json), { mode: 0o600 });
  });
  afterAll(async () => {
    await iam.close();
    await fake.close();
  });
  beforeEach(() => {
    iam.requests.length = 0;
    iam.failing = {};
  });

  const adminEnv = (dir: string) => ({
    KEYS_DIR: dir,
    FIREBASE_PROJECT_ID: fake.projectId,
    IAM_API_URL: iam.url,
    GOOGLE_TOKEN_URL: iam.tokenUrl,
    GOOGLE_APPLICATION_CREDENTIALS: adminCredentials,
  });

  it('rotate --create asks IAM for a key with the admin ADC token, installs it 0600 and makes it sign', async () => {
    const signing = fake.createServiceAccount();
    iam.addKey(signing.clientEmail, signing.key);
    const dir = keysDirWith(signing);
    const run = await keysCli(['rotate', '--create'], adminEnv(dir));
    expect(run.stderr).toEqual([]);
    expect(run.code).toBe(0);

    const [token, create] = iam.requests;
    expect(token).toMatchObject({ method: 'POST', path: '/token', contentType: expect.stringMatching(/^application\/x-www-form-urlencoded(;|$)/) });
    const form = new URLSearchParams(token!.body);
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(decodeJwt(form.get('assertion')!)).toMatchObject({ iss: admin.clientEmail, aud: iam.assertionAudience, scope: 'https://www.googleapis.com/auth/cloud-platform' });
    expect(create).toMatchObject({
      method: 'POST',
      path: `/v1/projects/${fake.projectId}/serviceAccounts/${signing.clientEmail}/keys`,
      authorization: `Bearer ${iam.issuedTokens.at(-1)}`,
    });
    expect(JSON.parse(create!.body)).toEqual({ privateKeyType: 'TYPE_GOOGLE_CREDENTIALS_FILE', keyAlgorithm: 'KEY_ALG_RSA_2048' });

    const ring = inspectKeyring(dir, fake.projectId);
    const created = [...iam.accountKeys.get(signing.clientEmail)!.keys()].find((kid) => kid !== signing.key.kid)!;
    expect(ring.active?.kid).toBe(created);
    expect(ring.entries.map((e) => e.kid).sort()).toEqual([signing.key.kid, created].sort());
    expect(ring.active?.mode).toBe(0o600);
    const audit = auditEntries(path.join(dir, 'audit.log')).at(-1);
    expect(audit).toMatchObject({ command: 'rotate --create', kid: created, outcome: 'ok' });
    expect(audit!.who).toContain(`(${admin.clientEmail})`);
    expect(run.stdout.join('\n')).not.toContain('PRIVATE KEY');
  });

  it('rotate --create fails with one line and changes nothing when IAM refuses', async () => {
    const signing = fake.createServiceAccount();
    const dir = keysDirWith(signing);
    iam.failing.iam = 403;
    const run = await keysCli(['rotate', '--create'], adminEnv(dir));
    expect(run.code).toBe(1);
    expect(run.stderr).toEqual([expect.stringMatching(/^keys: rotate --create failed: IAM keys.create: HTTP 403 \(Permission iam.serviceAccountKeys.create denied\)$/)]);
    expect(inspectKeyring(dir, fake.projectId).entries.map((e) => e.kid)).toEqual([signing.key.kid]);
  });

  it('retire --delete-remote deletes the key in IAM, then locally; the signing key is refused before any call', async () => {
    const signing = fake.createServiceAccount();
    const old = fake.createServiceAccount();
    iam.addKey(old.clientEmail, old.key);
    const dir = keysDirWith(signing, old);
    expect((await keysCli(['activate', signing.key.kid], adminEnv(dir))).code).toBe(0);

    const refused = await keysCli(['retire', signing.key.kid, '--delete-remote'], adminEnv(dir));
    expect(refused.code).toBe(1);
    expect(iam.requests.filter((r) => r.method === 'DELETE')).toEqual([]);

    const run = await keysCli(['retire', old.key.kid, '--delete-remote'], adminEnv(dir));
    expect(run.stderr).toEqual([]);
    expect(run.code).toBe(0);
    const del = iam.requests.find((r) => r.method === 'DELETE');
    expect(del).toMatchObject({
      path: `/v1/projects/${fake.projectId}/serviceAccounts/${old.clientEmail}/keys/${old.key.kid}`,
      authorization: expect.stringMatching(/^Bearer ya29\./),
    });
    expect(iam.deletedKids).toContain(old.key.kid);
    expect(inspectKeyring(dir, fake.projectId).entries.map((e) => e.kid)).toEqual([signing.key.kid]);
    expect(auditEntries(path.join(dir, 'audit.log')).at(-1)).toMatchObject({ command: 'retire --delete-remote', kid: old.key.kid, outcome: 'ok' });
  });

  it('retire --delete-remote keeps the local key when IAM fails', async () => {
    const signing = fake.createServiceAccount();
    const old = fake.createServiceAccount();
    const dir = keysDirWith(signing, old);
    expect((await keysCli(['activate', signing.key.kid], adminEnv(dir))).code).toBe(0);
    const run = await keysCli(['retire', old.key.kid, '--delete-remote'], adminEnv(dir)); // unknown to IAM: 404
    expect(run.code).toBe(1);
    expect(run.stderr[0]).toMatch(/IAM keys.delete: HTTP 404/);
    expect(inspectKeyring(dir, fake.projectId).entries).toHaveLength(2);
  });

  describe('keyless signing (IAM Credentials signBlob)', () => {
    function signer(clock = manualClock()) {
      const bridge = fake.createServiceAccount(fake.projectId, 'bridge-keyless');
      iam.addKey(bridge.clientEmail, bridge.key);
      const logs = new LogCapture();
      const tokens = new ApplicationDefaultCredentials({
        config: { credentialsFile: adminCredentials, tokenUrl: iam.tokenUrl, metadataHost: iam.metadataHost, timeoutMs: 2000 },
        fetch: globalThis.fetch,
        clock,
      });
      const iamSigner = new IamSigner({
        serviceAccountEmail: bridge.clientEmail,
        baseUrl: iam.url,
        client: new GoogleApiClient({ tokens, fetch: globalThis.fetch, clock, timeoutMs: 2000 }),
        warmUp: () => tokens.getAccessToken(),
        clock,
        logger: createLogger('info', logs),
      });
      // The keyless minter as the server composes it: the generator builds, IAM signBlob signs.
      const generator = new CustomTokenGenerator(iamSigner, clock);
      const s = {
        warm: () => iamSigner.warm(),
        isReady: () => generator.isReady(),
        mint: (uid: string, claims: Parameters<CustomTokenGenerator['mint']>[1]) => generator.mint(uid, claims),
      };
      return { s, bridge, clock, logs };
    }

    it('builds the custom token, has Google sign it, and Firebase accepts it', async () => {
      const { s, bridge } = signer(manualClock(Date.now()));
      await s.warm();
      expect(s.isReady()).toBe(true);
      const minted = await s.mint('google:123', { email: 'ada@example.com' });
      expect(minted.kid).toBe(bridge.key.kid);
      expect(decodeProtectedHeader(minted.customToken)).toEqual({ alg: 'RS256', typ: 'JWT' });
      const { payload } = await jwtVerify(minted.customToken, bridge.key.publicKey, {
        algorithms: ['RS256'],
        issuer: bridge.clientEmail,
        subject: bridge.clientEmail,
        audience: IDENTITY_TOOLKIT_AUDIENCE,
      });
      expect(payload).toMatchObject({ uid: 'google:123', claims: { email: 'ada@example.com' } });

      const call = iam.requests.find((r) => r.path.endsWith(':signBlob'))!;
      expect(call.path).toBe(`/v1/projects/-/serviceAccounts/${bridge.clientEmail}:signBlob`);
      expect(call.authorization).toBe(`Bearer ${iam.issuedTokens.at(-1)}`);
      const signingInput = Buffer.from((JSON.parse(call.body) as { payload: string }).payload, 'base64').toString();
      expect(minted.customToken.startsWith(`${signingInput}.`)).toBe(true);

      const signIn = await fetch(fake.signInWithCustomTokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: minted.customToken, returnSecureToken: true }),
      });
      expect(signIn.status).toBe(200);
    });

    it('caches the access token and refreshes it before expiry', async () => {
      const { s, clock } = signer(manualClock(Date.now()));
      await s.mint('u1', {});
      await s.mint('u2', {});
      const tokenCalls = () => iam.requests.filter((r) => r.path === '/token').length;
      expect(tokenCalls()).toBe(1);
      clock.advance(50 * 60_000); // 10 minutes before the hour: still cached
      await s.mint('u3', {});
      expect(tokenCalls()).toBe(1);
      clock.advance(6 * 60_000); // within 5 minutes of expiry: refreshed
      await s.mint('u4', {});
      expect(tokenCalls()).toBe(2);
      const signBlobs = iam.requests.filter((r) => r.path.endsWith(':signBlob'));
      expect(signBlobs.at(-1)!.authorization).toBe(`Bearer ${iam.issuedTokens.at(-1)}`);
    });

    it('a signBlob failure is a 503 error and makes the signer unready until it works again', async () => {
      const { s, logs } = signer(manualClock(Date.now()));
      await s.warm();
      iam.failing.signBlob = 500;
      await expect(s.mint('u', {})).rejects.toBeInstanceOf(SigningUnavailableError);
      expect(s.isReady()).toBe(false);
      expect(logs.text).toMatch(/keyless signing failed/);
      iam.failing = {};
      await s.mint('u', {});
      expect(s.isReady()).toBe(true);
    });

    it('while unready, readiness probes retry in the background (at most every 5 s)', async () => {
      const clock = manualClock(Date.now());
      const { s } = signer(clock);
      iam.failing.token = 500;
      await s.warm();
      expect(s.isReady()).toBe(false);
      iam.failing = {};
      expect(s.isReady()).toBe(false); // too soon to retry
      clock.advance(5000);
      expect(s.isReady()).toBe(false); // starts the retry
      await s.warm(); // joins it
      expect(s.isReady()).toBe(true);
    });
  });

  describe('Application Default Credentials', () => {
    it('authorized_user: refresh_token grant to GOOGLE_TOKEN_URL', async () => {
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'firebridge-adc-')), 'user.json');
      const u = iam.authorizedUser;
      writeFileSync(file, JSON.stringify({ type: 'authorized_user', client_id: u.clientId, client_secret: u.clientSecret, refresh_token: u.refreshToken, account: u.email }));
      const adc = new ApplicationDefaultCredentials({
        config: { credentialsFile: file, tokenUrl: iam.tokenUrl, metadataHost: iam.metadataHost, timeoutMs: 2000 },
        fetch: globalThis.fetch,
        clock: Date.now,
      });
      expect(await adc.getAccessToken()).toBe(iam.issuedTokens.at(-1));
      expect(new URLSearchParams(iam.requests.at(-1)!.body).get('grant_type')).toBe('refresh_token');
      expect(await adc.accountEmail()).toBe(u.email);
    });

    it('metadata server when no credentials file exists', async () => {
      const adc = new ApplicationDefaultCredentials({
        config: { wellKnownCredentialsFile: '/nonexistent/adc.json', tokenUrl: iam.tokenUrl, metadataHost: iam.metadataHost, timeoutMs: 2000 },
        fetch: globalThis.fetch,
        clock: Date.now,
      });
      expect(await adc.getAccessToken()).toBe(iam.issuedTokens.at(-1));
      expect(iam.requests.at(-1)).toMatchObject({ method: 'GET', metadataFlavor: 'Google' });
      expect(iam.requests.at(-1)!.path).toMatch(/^\/computeMetadata\/v1\/instance\/service-accounts\/default\/token\?scopes=/);
      expect(await adc.accountEmail()).toBe(iam.metadataEmail);
    });

    it('a token endpoint failure is an error naming the endpoint, never the assertion', async () => {
      iam.failing.token = 500;
      const adc = new ApplicationDefaultCredentials({
        config: { credentialsFile: adminCredentials, tokenUrl: iam.tokenUrl, metadataHost: iam.metadataHost, timeoutMs: 2000 },
        fetch: globalThis.fetch,
        clock: Date.now,
      });
      await expect(adc.getAccessToken()).rejects.toThrow(/^OAuth token endpoint: HTTP 500 \(token endpoint down\)$/);
    });
  });
});
