import { ConfigError, type ConfiguredConfig, loadConfig, loadKeysAdminConfig } from '../../src/config';

const base = { FIREBASE_PROJECT_ID: 'my-app-12345', GOOGLE_CLIENT_IDS: '123-abc.apps.googleusercontent.com' };

function settingOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.setting;
    throw err;
  }
  throw new Error('did not throw');
}

describe('key management settings', () => {
  it('defaults', () => {
    const config = loadConfig(base, '/srv/app') as ConfiguredConfig;
    expect(config.keysPollIntervalMs).toBe(2000);
    expect(config.serviceAccountEmail).toBeUndefined();
    expect(config.googleApis).toMatchObject({
      tokenUrl: 'https://oauth2.googleapis.com/token',
      metadataHost: 'metadata.google.internal',
      iamApiUrl: 'https://iam.googleapis.com',
      iamCredentialsUrl: 'https://iamcredentials.googleapis.com',
      timeoutMs: 10000,
    });
    expect(config.googleApis.credentialsFile).toBeUndefined();
    const admin = loadKeysAdminConfig({ KEYS_DIR: 'secrets' }, '/srv/app');
    expect(admin).toMatchObject({ keysDir: '/srv/app/secrets', auditLog: '/srv/app/secrets/audit.log', projectId: undefined });
  });

  it('reads every setting', () => {
    const env = {
      ...base,
      KEYS_POLL_INTERVAL_MS: '0',
      SERVICE_ACCOUNT_EMAIL: 'bridge@my-app-12345.iam.gserviceaccount.com',
      GOOGLE_APPLICATION_CREDENTIALS: 'adc.json',
      GOOGLE_TOKEN_URL: 'http://127.0.0.1:9/token',
      GCE_METADATA_HOST: '127.0.0.1:8181',
      IAM_API_URL: 'http://127.0.0.1:9/',
      IAM_CREDENTIALS_API_URL: 'https://iamcredentials.internal.example',
      GOOGLE_API_TIMEOUT_MS: '500',
      KEYS_AUDIT_LOG: '/var/log/firebridge-keys.log',
    };
    const config = loadConfig(env, '/srv/app') as ConfiguredConfig;
    expect(config).toMatchObject({ keysPollIntervalMs: 0, serviceAccountEmail: 'bridge@my-app-12345.iam.gserviceaccount.com' });
    expect(config.googleApis).toMatchObject({
      credentialsFile: '/srv/app/adc.json',
      tokenUrl: 'http://127.0.0.1:9/token',
      metadataHost: '127.0.0.1:8181',
      iamApiUrl: 'http://127.0.0.1:9',
      iamCredentialsUrl: 'https://iamcredentials.internal.example',
      timeoutMs: 500,
    });
    expect(loadKeysAdminConfig(env, '/srv/app').auditLog).toBe('/var/log/firebridge-keys.log');
  });

  it.each([
    [{ KEYS_POLL_INTERVAL_MS: 'fast' }, 'KEYS_POLL_INTERVAL_MS'],
    [{ SERVICE_ACCOUNT_EMAIL: 'not-an-email' }, 'SERVICE_ACCOUNT_EMAIL'],
    [{ SERVICE_ACCOUNT_EMAIL: 'x@other-project.iam.gserviceaccount.com' }, 'SERVICE_ACCOUNT_EMAIL'],
    [{ GOOGLE_TOKEN_URL: 'http://evil.example/token' }, 'GOOGLE_TOKEN_URL'],
    [{ IAM_API_URL: 'nope' }, 'IAM_API_URL'],
    [{ IAM_CREDENTIALS_API_URL: 'http://iam.example' }, 'IAM_CREDENTIALS_API_URL'],
    [{ GCE_METADATA_HOST: 'http://metadata/' }, 'GCE_METADATA_HOST'],
    [{ GOOGLE_API_TIMEOUT_MS: '10' }, 'GOOGLE_API_TIMEOUT_MS'],
  ])('%j is refused, naming the setting', (extra, setting) => {
    expect(settingOf(() => loadConfig({ ...base, ...extra }))).toBe(setting);
  });

  it('the admin script validates its settings too', () => {
    expect(settingOf(() => loadKeysAdminConfig({ IAM_API_URL: 'http://iam.example' }))).toBe('IAM_API_URL');
    expect(settingOf(() => loadKeysAdminConfig({ SERVICE_ACCOUNT_EMAIL: 'x' }))).toBe('SERVICE_ACCOUNT_EMAIL');
  });
});
