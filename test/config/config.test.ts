import { ConfigError, loadConfig } from '../../src/config';

const base = {
  FIREBASE_PROJECT_ID: 'my-app-12345',
  GOOGLE_CLIENT_IDS: '123-abc.apps.googleusercontent.com',
};

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('loadConfig did not throw');
}

describe('configuration', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(base, '/srv/app');
    expect(config).toMatchObject({
      mode: 'configured',
      port: 8080,
      host: '0.0.0.0',
      logLevel: 'info',
      projectId: 'my-app-12345',
      googleClientIds: ['123-abc.apps.googleusercontent.com'],
      keysDir: '/srv/app/keys',
      googleCertsUrl: 'https://www.googleapis.com/oauth2/v3/certs',
      firebaseCertsUrl: 'https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com',
      clockSkewSeconds: 60,
      certsFetchTimeoutMs: 5000,
      certsRefetchCooldownMs: 10000,
      maxBodyBytes: 16384,
    });
  });

  it('reads every setting', () => {
    const config = loadConfig({
      ...base,
      GOOGLE_CLIENT_IDS: 'a.apps.googleusercontent.com, b.apps.googleusercontent.com',
      PORT: '9000',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      KEYS_DIR: '/etc/firebridge/keys',
      GOOGLE_CERTS_URL: 'https://certs.internal.example/google',
      FIREBASE_CERTS_URL: 'http://127.0.0.1:9999/x509',
      CLOCK_SKEW_SECONDS: '300',
      CERTS_FETCH_TIMEOUT_MS: '2000',
      CERTS_REFETCH_COOLDOWN_MS: '100',
      CERTS_MAX_STALE_SECONDS: '60',
      MAX_BODY_BYTES: '4096',
    });
    expect(config).toMatchObject({
      port: 9000,
      host: '127.0.0.1',
      logLevel: 'warn',
      keysDir: '/etc/firebridge/keys',
      googleClientIds: ['a.apps.googleusercontent.com', 'b.apps.googleusercontent.com'],
      googleCertsUrl: 'https://certs.internal.example/google',
      firebaseCertsUrl: 'http://127.0.0.1:9999/x509',
      clockSkewSeconds: 300,
      certsFetchTimeoutMs: 2000,
      certsRefetchCooldownMs: 100,
      certsMaxStaleSeconds: 60,
      maxBodyBytes: 4096,
    });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ CLOCK_SKEW_SECONDS: '301' }, 'CLOCK_SKEW_SECONDS'],
    [{ CLOCK_SKEW_SECONDS: '-1' }, 'CLOCK_SKEW_SECONDS'],
    [{ CERTS_FETCH_TIMEOUT_MS: '0' }, 'CERTS_FETCH_TIMEOUT_MS'],
    [{ CERTS_REFETCH_COOLDOWN_MS: '1.5' }, 'CERTS_REFETCH_COOLDOWN_MS'],
    [{ MAX_BODY_BYTES: '10' }, 'MAX_BODY_BYTES'],
    [{ GOOGLE_CERTS_URL: 'not a url' }, 'GOOGLE_CERTS_URL'],
    [{ GOOGLE_CERTS_URL: 'http://certs.example.com/x' }, 'GOOGLE_CERTS_URL'],
    [{ FIREBASE_CERTS_URL: 'ftp://127.0.0.1/x' }, 'FIREBASE_CERTS_URL'],
    [{ GOOGLE_CERTS_URL: 'http://127.evil.example/certs' }, 'GOOGLE_CERTS_URL'],
    [{ GOOGLE_CERTS_URL: 'http://127.0.0.1.nip.io/certs' }, 'GOOGLE_CERTS_URL'],
    [{ CERTS_REFETCH_COOLDOWN_MS: '0' }, 'CERTS_REFETCH_COOLDOWN_MS'],
    [{ GOOGLE_CLIENT_IDS: 'a,,b' }, 'GOOGLE_CLIENT_IDS'],
    [{ FIREBASE_PROJECT_ID: 'Bad_Project' }, 'FIREBASE_PROJECT_ID'],
    [{ FIREBASE_PROJECT_ID: 'demo-project' }, 'FIREBASE_PROJECT_ID'],
  ])('a bad setting %j stops start-up with a message naming %s', (override, name) => {
    const err = errorOf({ ...base, ...override });
    expect(err.setting).toBe(name);
    expect(err.message.startsWith(`${name}: `)).toBe(true);
  });

  it('half a configuration is an error, not local mode', () => {
    expect(errorOf({ FIREBASE_PROJECT_ID: 'my-app-12345' }).setting).toBe('GOOGLE_CLIENT_IDS');
    expect(errorOf({ GOOGLE_CLIENT_IDS: 'x.apps.googleusercontent.com' }).setting).toBe('FIREBASE_PROJECT_ID');
  });

  it('with nothing set, starts local mode: demo- project, loopback, its own state folder', () => {
    const config = loadConfig({ KEYS_DIR: '/etc/real-keys' }, '/srv/app');
    expect(config.mode).toBe('local');
    if (config.mode !== 'local') return;
    expect(config.projectId).toMatch(/^demo-/);
    expect(config.host).toBe('127.0.0.1');
    expect(config.localStateDir).toBe('/srv/app/.local');
    expect('keysDir' in config).toBe(false);
    expect(loadConfig({ HOST: '0.0.0.0', LOCAL_MODE_PUBLIC: 'true' }, '/srv/app').host).toBe('0.0.0.0');
  });

  it('with NODE_ENV=production, local mode never switches on: missing settings are fatal', () => {
    expect(errorOf({ NODE_ENV: 'production' }).setting).toBe('FIREBASE_PROJECT_ID');
    expect(errorOf({ NODE_ENV: 'production', FIREBASE_PROJECT_ID: 'my-app-12345' }).setting).toBe('GOOGLE_CLIENT_IDS');
    for (const spelling of ['Production', 'PRODUCTION', 'prod']) {
      expect(errorOf({ NODE_ENV: spelling }).setting).toBe('FIREBASE_PROJECT_ID');
    }
  });

  it('a project setting that is present but empty is an error, never local mode', () => {
    expect(errorOf({ FIREBASE_PROJECT_ID: '' }).message).toMatch(/FIREBASE_PROJECT_ID: is set but empty/);
    expect(errorOf({ FIREBASE_PROJECT_ID: '  ', GOOGLE_CLIENT_IDS: '' }).setting).toBe('FIREBASE_PROJECT_ID');
    expect(errorOf({ GOOGLE_CLIENT_IDS: '' }).setting).toBe('GOOGLE_CLIENT_IDS');
  });

  it('settings only a real deployment has stop local mode from switching on', () => {
    for (const [name, value] of [
      ['SERVICE_ACCOUNT_EMAIL', 'bridge@my-app-12345.iam.gserviceaccount.com'],
      ['ADMIN_API_TOKEN', 'x'.repeat(40)],
      ['CHECK_REVOKED', 'true'],
    ]) {
      const err = errorOf({ [name as string]: value as string });
      expect(err.setting).toBe('FIREBASE_PROJECT_ID');
      expect(err.message).toContain(name as string);
    }
    // KEYS_DIR alone, holding no keyring, does not: local mode never reads keys from it.
    expect(loadConfig({ KEYS_DIR: '/etc/keys' }).mode).toBe('local');
  });
});
