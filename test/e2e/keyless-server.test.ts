import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { ConfigError, type ConfiguredConfig, loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { type RunningServer, startServer } from '../../src/compose/server';
import { FakeGoogle } from '../../testkit/fake-google';
import { FakeIam } from '../../testkit/fake-iam';
import { FakeIdentityToolkit } from '../../testkit/fake-identity-toolkit';
import { LogCapture, configuredEnv, keysDirWith } from '../../testkit/harness';
import { bridgeFetch } from '../../testkit/openapi-fetch';

/** Every response of the bridge servers is checked against /openapi.json. */
const fetch = bridgeFetch();

describe('keyless signing in the server (no key file, SERVICE_ACCOUNT_EMAIL + ADC)', () => {
  let fake: FakeGoogle;
  let iam: FakeIam;
  let running: RunningServer | undefined;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    iam = await FakeIam.start(fake);
  });
  afterEach(async () => {
    await running?.shutdown();
    running = undefined;
  });
  afterAll(async () => {
    await iam.close();
    await fake.close();
  });

  function keylessEnv(extra: Record<string, string> = {}) {
    const bridge = fake.createServiceAccount(fake.projectId, 'bridge');
    iam.addKey(bridge.clientEmail, bridge.key);
    const adcFile = path.join(mkdtempSync(path.join(tmpdir(), 'firebridge-adc-')), 'adc.json');
    writeFileSync(adcFile, JSON.stringify(bridge.json), { mode: 0o600 });
    const env = configuredEnv(fake, keysDirWith(), {
      SERVICE_ACCOUNT_EMAIL: bridge.clientEmail,
      GOOGLE_APPLICATION_CREDENTIALS: adcFile,
      GOOGLE_TOKEN_URL: iam.tokenUrl,
      IAM_CREDENTIALS_API_URL: iam.url,
      HOST: '127.0.0.1',
      PORT: '0',
      RATE_LIMIT_EXCHANGE_PER_MINUTE: '0',
      ...extra,
    });
    return { env, bridge };
  }

  async function start(env: Record<string, string>) {
    const logs = new LogCapture();
    const config = loadConfig(env) as ConfiguredConfig;
    running = await startServer(config, { logger: createLogger('info', logs), shutdownGraceMs: 1000 });
    return { logs, url: fetch.bridge(running.url) };
  }

  it('is ready and mints tokens signed through signBlob that Firebase accepts', async () => {
    const { env, bridge } = keylessEnv();
    const { url, logs } = await start(env);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const res = await fetch(`${url}/v1/token/google`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ idToken: await fake.googleIdToken({ jti: randomUUID() }) }),
    });
    expect(res.status).toBe(200);
    const { customToken } = (await res.json()) as { customToken: string };
    expect(decodeProtectedHeader(customToken).kid).toBeUndefined();
    const signIn = await fetch(fake.signInWithCustomTokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: customToken, returnSecureToken: true }),
    });
    expect(signIn.status).toBe(200);
    expect(logs.text).toContain('keyless signing with IAM Credentials signBlob');
    expect(logs.text).toContain(bridge.clientEmail);
    expect(logs.text).not.toContain('PRIVATE KEY');
    expect(logs.text).not.toContain('ya29.');
  });

  it('with CHECK_REVOKED, the revocation lookup uses the signer\'s ADC token: one token fetch serves both', async () => {
    const toolkit = await FakeIdentityToolkit.start(fake.projectId, (token) => iam.issuedTokens.includes(token));
    try {
      toolkit.users.set('kl-user', {});
      const { env } = keylessEnv({ CHECK_REVOKED: 'true', IDENTITY_TOOLKIT_URL: toolkit.url });
      const grantsBefore = iam.requests.filter((r) => r.path === '/token').length;
      const { url } = await start(env);
      const minted = await fetch(`${url}/v1/token/google`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ idToken: await fake.googleIdToken({ jti: randomUUID() }) }),
      });
      expect(minted.status).toBe(200);
      const me = await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${await fake.firebaseIdToken({ sub: 'kl-user' })}` } });
      expect(me.status).toBe(200);
      const signBlobs = iam.requests.filter((r) => r.path.includes(':signBlob'));
      expect(toolkit.callsTo('lookup')[0]?.authorization).toBe(signBlobs[signBlobs.length - 1]?.authorization);
      // One access token, fetched once, for signBlob and Identity Toolkit alike.
      expect(iam.requests.filter((r) => r.path === '/token').length - grantsBefore).toBe(1);
    } finally {
      await toolkit.close();
    }
  });

  it('is not ready while ADC cannot produce a token', async () => {
    const { env } = keylessEnv();
    iam.failing.token = 503;
    try {
      const { url } = await start(env);
      expect((await fetch(`${url}/readyz`)).status).toBe(503);
    } finally {
      iam.failing = {};
    }
  });

  it('a key file in KEYS_DIR wins over keyless; without SERVICE_ACCOUNT_EMAIL an empty KEYS_DIR still refuses to start', async () => {
    const { env } = keylessEnv();
    const account = fake.createServiceAccount();
    const withKey = loadConfig({ ...env, KEYS_DIR: keysDirWith(account) }) as ConfiguredConfig;
    const logs = new LogCapture();
    running = await startServer(withKey, { logger: createLogger('info', logs), shutdownGraceMs: 1000 });
    expect(logs.text).toContain('signing key loaded');
    expect(logs.text).not.toContain('keyless');
    await running.shutdown();
    running = undefined;
    const { SERVICE_ACCOUNT_EMAIL: _omit, ...noEmail } = env;
    await expect(startServer(loadConfig(noEmail), { logger: createLogger('silent') })).rejects.toThrow(/holds no service-account key file/);
  });

  it('SERVICE_ACCOUNT_EMAIL of another project is refused at start, naming both settings', () => {
    let error: unknown;
    try {
      loadConfig(configuredEnv(fake, keysDirWith(), { SERVICE_ACCOUNT_EMAIL: 'bridge@other-project-1.iam.gserviceaccount.com' }));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe('SERVICE_ACCOUNT_EMAIL');
    expect((error as Error).message).toMatch(/FIREBASE_PROJECT_ID/);
  });
});
