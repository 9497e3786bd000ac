import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ConfigError, type ConfiguredConfig, loadConfig } from '../../src/config';
import { isKeyFileName } from '../../src/config/keys';
import { createDependencies } from '../../src/compose/dependencies';
import { createGoogleVault } from '../../src/compose/vault';
import { FakeGoogle } from '../../testkit/fake-google';
import { FakeOAuth } from '../../testkit/fake-oauth';
import { configuredEnv, keysDirWith } from '../../testkit/harness';
import { keysCli } from '../../testkit/keys-cli';
import { vaultEnv } from '../../testkit/vault';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.setting);
    throw err;
  }
  return [];
}

describe('vault settings', () => {
  let fake: FakeGoogle;
  let oauth: FakeOAuth;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    oauth = await FakeOAuth.start();
  });
  afterAll(async () => {
    await Promise.all([fake.close(), oauth.close()]);
  });

  it('defaults: KEYS_DIR/vault-keys.json, ./data, Google\'s revoke URL; off without GOOGLE_OAUTH_CLIENT_ID', () => {
    const keysDir = keysDirWith(fake.createServiceAccount());
    const on = loadConfig(configuredEnv(fake, keysDir, { GOOGLE_OAUTH_CLIENT_ID: 'a.apps.googleusercontent.com', GOOGLE_OAUTH_CLIENT_SECRET: 's' }), '/srv/app') as ConfiguredConfig;
    expect(on.vault).toEqual({
      clientId: 'a.apps.googleusercontent.com',
      clientSecret: 's',
      revokeUrl: 'https://oauth2.googleapis.com/revoke',
      keysFile: path.join(keysDir, 'vault-keys.json'),
      dataDir: '/srv/app/data',
    });
    expect((loadConfig(configuredEnv(fake, keysDir)) as ConfiguredConfig).vault).toBeUndefined();
  });

  it('every bad vault setting is reported, each named', () => {
    const keysDir = keysDirWith(fake.createServiceAccount());
    expect(problemsOf(() => loadConfig(configuredEnv(fake, keysDir, { GOOGLE_OAUTH_CLIENT_SECRET: 's' })))).toEqual(['GOOGLE_OAUTH_CLIENT_SECRET']);
    expect(
      problemsOf(() =>
        loadConfig(configuredEnv(fake, keysDir, { GOOGLE_OAUTH_CLIENT_ID: 'a.apps.googleusercontent.com', DATABASE_URL: 'mysql://x', GOOGLE_REVOKE_URL: 'nope' })),
      ).sort(),
    ).toEqual(['DATABASE_URL', 'GOOGLE_OAUTH_CLIENT_SECRET', 'GOOGLE_REVOKE_URL']);
  });

  it('local mode refuses the vault settings (deployment only)', () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'fb-local-'));
    for (const name of ['GOOGLE_OAUTH_CLIENT_ID', 'GOOGLE_OAUTH_CLIENT_SECRET', 'DATABASE_URL', 'VAULT_KEYS_FILE', 'DATA_DIR', 'GOOGLE_REVOKE_URL']) {
      expect(() => loadConfig({ [name]: 'x' }, cwd)).toThrow(new RegExp(name));
    }
  });

  it('vault-keys.json is not a service-account key file: the keyring beside it loads and signs', async () => {
    expect(isKeyFileName('vault-keys.json')).toBe(false);
    expect(isKeyFileName('abc123.json')).toBe(true);
    const keysDir = keysDirWith(fake.createServiceAccount());
    expect((await keysCli(['vault-key', 'create'], { KEYS_DIR: keysDir })).code).toBe(0);
    const env = configuredEnv(fake, keysDir, vaultEnv(oauth, path.join(keysDir, 'vault-keys.json')));
    delete env.VAULT_KEYS_FILE; // the default: KEYS_DIR/vault-keys.json
    const config = loadConfig(env) as ConfiguredConfig;
    expect(config.vault?.keysFile).toBe(path.join(keysDir, 'vault-keys.json'));
    const deps = createDependencies(config, { logger: pino({ level: 'silent' }), clock: Date.now, fetch: globalThis.fetch });
    await expect(deps.minter.mint('google:1', {})).resolves.toHaveProperty('customToken');
    await deps.googleVault?.close();
  });

  it('vault off: no database is touched; vault on without a key file: the start stops, naming the command', async () => {
    const keysDir = keysDirWith(fake.createServiceAccount());
    const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'fb-data-')), 'data');
    const runtime = { logger: pino({ level: 'silent' }), clock: Date.now, fetch: globalThis.fetch };
    const off = createDependencies(loadConfig(configuredEnv(fake, keysDir, { DATA_DIR: dataDir })), runtime);
    expect(off.googleVault).toBeUndefined();
    expect(existsSync(dataDir)).toBe(false);
    const missing = path.join(keysDir, 'vault-keys.json');
    const config = loadConfig(configuredEnv(fake, keysDir, vaultEnv(oauth, missing, dataDir)));
    let err: unknown;
    try {
      createDependencies(config, runtime);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).setting).toBe('VAULT_KEYS_FILE');
    expect((err as Error).message).toMatch(/npm run keys -- vault-key create/);
    await expect(createGoogleVault(config)).rejects.toThrow(/vault-key create/);
    await expect(createGoogleVault(loadConfig(configuredEnv(fake, keysDir)))).rejects.toThrow(/GOOGLE_OAUTH_CLIENT_ID/);
  });
});
