import { readFileSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import { ConfigError, loadConfig } from '../../src/config';
import { startServer } from '../../src/compose/server';
import { FakeGoogle } from '../../testkit/fake-google';
import { FakeOAuth } from '../../testkit/fake-oauth';
import { configuredEnv, keysDirWith } from '../../testkit/harness';
import { vaultEnv, vaultKeyFile } from '../../testkit/vault';
import { bridgeFetch } from '../../testkit/openapi-fetch';

/** Every response of the server is checked against /openapi.json. */
const fetch = bridgeFetch();

describe('the server with the vault on', () => {
  let fake: FakeGoogle;
  let oauth: FakeOAuth;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    oauth = await FakeOAuth.start();
  });
  afterAll(async () => {
    await Promise.all([fake.close(), oauth.close()]);
  });

  it('runs the migrations at start, links at sign-in, serves access tokens, and refuses a wrong key file at the next start', async () => {
    const keysFile = vaultKeyFile();
    const env = vaultEnv(oauth, keysFile);
    const config = loadConfig(configuredEnv(fake, keysDirWith(fake.createServiceAccount()), { ...env, PORT: '0', HOST: '127.0.0.1' }));
    const running = await startServer(config, { logger: pino({ level: 'silent' }) });
    fetch.bridge(running.url);
    try {
      const signIn = await fetch(`${running.url}/v1/token/google`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ idToken: await fake.googleIdToken(), serverAuthCode: oauth.issueCode({ sub: '110169484474386276334' }) }),
      });
      expect(signIn.status).toBe(200);
      expect(((await signIn.json()) as { google: unknown }).google).toEqual({ linked: true, scopes: ['openid', 'https://www.googleapis.com/auth/drive.file'] });
      const token = await fetch(`${running.url}/v1/google/access-token`, { headers: { authorization: `Bearer ${await fake.firebaseIdToken()}` } });
      expect(token.status).toBe(200);
    } finally {
      await running.shutdown();
    }
    const text = JSON.parse(readFileSync(keysFile, 'utf8'));
    text.keys[0].key = Buffer.alloc(32, 9).toString('base64');
    writeFileSync(keysFile, JSON.stringify(text));
    const err = await startServer(config, { logger: pino({ level: 'silent' }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).setting).toBe('VAULT_KEYS_FILE');
  });
});
