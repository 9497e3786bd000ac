import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, type ConfiguredConfig, loadConfig } from '../../src/config';
import { runToExit } from '../../testkit/spawn-server';

const base = {
  NODE_ENV: 'development',
  FIREBASE_PROJECT_ID: 'demo-my-app',
  GOOGLE_CLIENT_IDS: '123-abc.apps.googleusercontent.com',
  FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099',
};

function errorOf(env: Record<string, string>, cwd?: string): ConfigError {
  try {
    loadConfig(env, cwd);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('loadConfig did not throw');
}

/** The problem of one setting among all those found. */
function problemOf(err: ConfigError, setting: string): string | undefined {
  return err.problems.find((p) => p.setting === setting)?.message;
}

describe('FIREBASE_AUTH_EMULATOR_HOST', () => {
  it('in configured mode: the emulator host, its Identity Toolkit as firebase-admin calls it, and a demo- project', () => {
    const config = loadConfig(base) as ConfiguredConfig;
    expect(config.mode).toBe('configured');
    expect(config.projectId).toBe('demo-my-app');
    expect(config.authEmulator).toEqual({ host: '127.0.0.1:9099', identityToolkitUrl: 'http://127.0.0.1:9099/identitytoolkit.googleapis.com' });
    // A real project works with it too (NODE_ENV unset is development).
    const { NODE_ENV: _unused, ...noNodeEnv } = base;
    expect((loadConfig({ ...noNodeEnv, FIREBASE_PROJECT_ID: 'my-app-12345' }) as ConfiguredConfig).authEmulator?.host).toBe('127.0.0.1:9099');
  });

  it.each(['localhost:9099', 'auth-emulator:9099', 'firebase.internal:19099', '[::1]:9099', '10.0.2.2:9099'])('takes host:port %s', (host) => {
    expect((loadConfig({ ...base, FIREBASE_AUTH_EMULATOR_HOST: host }) as ConfiguredConfig).authEmulator?.host).toBe(host);
  });

  it.each(['127.0.0.1', 'http://127.0.0.1:9099', '127.0.0.1:9099/', '127.0.0.1:0', '127.0.0.1:70000', '[not-ipv6]:9099', 'a b:9099', '::1:9099'])(
    'refuses %s, naming the setting',
    (host) => {
      const err = errorOf({ ...base, FIREBASE_AUTH_EMULATOR_HOST: host });
      expect(err.setting).toBe('FIREBASE_AUTH_EMULATOR_HOST');
      expect(err.message).toMatch(/^FIREBASE_AUTH_EMULATOR_HOST: must be host:port of the Auth Emulator/);
    },
  );

  it('set but empty is a mistake, said so', () => {
    expect(errorOf({ ...base, FIREBASE_AUTH_EMULATOR_HOST: ' ' }).message).toMatch(/^FIREBASE_AUTH_EMULATOR_HOST: is set but empty/);
  });

  it.each(['production', 'Production', 'prod'])('is refused with NODE_ENV=%s, saying why', (nodeEnv) => {
    const err = errorOf({ ...base, FIREBASE_PROJECT_ID: 'my-app-12345', NODE_ENV: nodeEnv });
    expect(err.setting).toBe('FIREBASE_AUTH_EMULATOR_HOST');
    expect(problemOf(err, 'FIREBASE_AUTH_EMULATOR_HOST')).toMatch(/must not be set with NODE_ENV=production: the Auth Emulator's ID tokens are unsigned/);
  });

  it('is refused in local mode, which is its own emulator, saying why and what to do', () => {
    // Nothing but the emulator variable (as `firebase emulators:exec` sets it): local mode would start.
    const cwd = mkdtempSync(path.join(tmpdir(), 'firebridge-emu-config-'));
    const err = errorOf({ FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099' }, cwd);
    expect(err.setting).toBe('FIREBASE_AUTH_EMULATOR_HOST');
    expect(err.problems).toHaveLength(1);
    expect(err.message).toMatch(/^FIREBASE_AUTH_EMULATOR_HOST: is not used in local mode: local mode is its own Auth Emulator/);
    expect(err.message).toContain('set FIREBASE_PROJECT_ID (a demo- project will do) and GOOGLE_CLIENT_IDS');
  });

  it('a demo- project without it is still refused, and the message names it', () => {
    const { FIREBASE_AUTH_EMULATOR_HOST: _unused, ...without } = base;
    const err = errorOf(without);
    expect(err.setting).toBe('FIREBASE_PROJECT_ID');
    expect(err.message).toMatch(/a demo- project cannot sign in real users/);
    expect(err.message).toContain('set FIREBASE_AUTH_EMULATOR_HOST');
  });

  it('unset: no emulator', () => {
    expect((loadConfig({ FIREBASE_PROJECT_ID: 'my-app-12345', GOOGLE_CLIENT_IDS: 'x.apps.googleusercontent.com' }) as ConfiguredConfig).authEmulator).toBeUndefined();
  });

  it('the server refuses to start with it in production, printing the setting and why', async () => {
    const { code, output } = await runToExit({ ...base, FIREBASE_PROJECT_ID: 'my-app-12345', NODE_ENV: 'production' });
    expect(code).toBe(78);
    expect(output).toContain('firebridge: invalid configuration: FIREBASE_AUTH_EMULATOR_HOST: must not be set with NODE_ENV=production');
  }, 20_000);
});
