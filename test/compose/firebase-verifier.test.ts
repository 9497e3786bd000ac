import { ConfigError, loadConfig } from '../../src';
import { firebaseVerifier } from '../../src/compose/verifiers';
import { VerifiedTokenCache } from '../../src/auth/verified-token-cache';
import { FakeGoogle } from '../../testkit/fake-google';

/**
 * The library's firebaseVerifier() is built by the server's code and refuses every option the
 * server would refuse as a setting, with the same message, naming the option.
 */
describe('firebaseVerifier() options', () => {
  const projectId = 'my-app-12345';

  /** The message the server gives for the same value as a setting, with the setting's name swapped for the option's. */
  function serverMessage(setting: string, value: string, option: string): string {
    const env: Record<string, string> = { NODE_ENV: 'production', FIREBASE_PROJECT_ID: projectId, GOOGLE_CLIENT_IDS: 'web.apps.googleusercontent.com', [setting]: value };
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message.replace(setting, option);
    }
    throw new Error(`the server accepted ${setting}=${value}`);
  }

  it.each([
    ['projectId', 'Not A Project', 'FIREBASE_PROJECT_ID'],
    ['projectId', 'demo-project', 'FIREBASE_PROJECT_ID'],
    ['certsUrl', 'http://certs.example.com/x509', 'FIREBASE_CERTS_URL'],
    ['certsUrl', 'not a url', 'FIREBASE_CERTS_URL'],
    ['cooldownMs', '0', 'CERTS_REFETCH_COOLDOWN_MS'],
    ['fetchTimeoutMs', '0', 'CERTS_FETCH_TIMEOUT_MS'],
    ['fetchTimeoutMs', '600000', 'CERTS_FETCH_TIMEOUT_MS'],
    ['skewSeconds', '301', 'CLOCK_SKEW_SECONDS'],
    ['maxStaleSeconds', '99999999', 'CERTS_MAX_STALE_SECONDS'],
    ['cacheMaxEntries', '2000000', 'VERIFIED_TOKEN_CACHE_MAX_ENTRIES'],
  ])('refuses %s = %s as the server refuses %s', (option, value, setting) => {
    const asOption = option === 'projectId' || option === 'certsUrl' ? value : Number(value);
    const options = { projectId, [option]: asOption } as Parameters<typeof firebaseVerifier>[0];
    let thrown: unknown;
    try {
      firebaseVerifier(options);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).setting).toBe(option);
    expect((thrown as Error).message).toBe(serverMessage(setting, value, option));
  });

  it.each([
    ['skewSeconds', -1],
    ['skewSeconds', 1.5],
    ['cooldownMs', Number.NaN],
    ['cacheMaxEntries', -5],
  ])('refuses %s = %s (not a whole number in bounds)', (option, value) => {
    expect(() => firebaseVerifier({ projectId, [option]: value } as Parameters<typeof firebaseVerifier>[0])).toThrow(new RegExp(`^${option}: `));
  });

  it('accepts the bounds themselves, and plain http on loopback as the server does', () => {
    expect(() => firebaseVerifier({ projectId, skewSeconds: 0, cooldownMs: 100, fetchTimeoutMs: 100, cacheMaxEntries: 0 })).not.toThrow();
    expect(() => firebaseVerifier({ projectId, skewSeconds: 300, fetchTimeoutMs: 60_000, certsUrl: 'http://127.0.0.1:9/x509' })).not.toThrow();
  });

  it('is the server\'s verifier: the cache of verified tokens around the Firebase ID token verifier, keys fetched once', async () => {
    const fake = await FakeGoogle.start(projectId);
    try {
      const verifier = firebaseVerifier({ projectId, certsUrl: fake.firebaseCertsUrl });
      expect(verifier).toBeInstanceOf(VerifiedTokenCache);
      const token = await fake.firebaseIdToken({ sub: 'lib-user' });
      for (let i = 0; i < 3; i++) expect((await verifier.verify(token)).uid).toBe('lib-user');
      expect(fake.securetoken.hits).toBe(1);
    } finally {
      await fake.close();
    }
  });
});
