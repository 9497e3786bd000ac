import { loadConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';

const BASE = {
  NODE_ENV: 'test',
  FIREBASE_PROJECT_ID: 'my-project-1',
  GOOGLE_CLIENT_IDS: 'web.apps.googleusercontent.com',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...BASE, ...env }, '/nonexistent');
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((problem) => problem.setting);
  }
}

describe('forward-auth settings (AUTHZ_*)', () => {
  it('defaults: no cookie, no claims, email verification not required', () => {
    expect(loadConfig(BASE, '/nonexistent').authz).toEqual({ requireClaims: [], requireEmailVerified: false });
  });

  it('reads the cookie name, the claims and the flag', () => {
    const config = loadConfig(
      { ...BASE, AUTHZ_COOKIE_NAME: '__session', AUTHZ_REQUIRE_CLAIMS: 'admin, staff', AUTHZ_REQUIRE_EMAIL_VERIFIED: 'true' },
      '/nonexistent',
    );
    expect(config.authz).toEqual({ cookieName: '__session', requireClaims: ['admin', 'staff'], requireEmailVerified: true });
  });

  it('every bad setting is reported, each named', () => {
    expect(
      problems({ AUTHZ_COOKIE_NAME: 'my cookie;', AUTHZ_REQUIRE_CLAIMS: 'admin,,staff', AUTHZ_REQUIRE_EMAIL_VERIFIED: 'maybe' }),
    ).toEqual(['AUTHZ_COOKIE_NAME', 'AUTHZ_REQUIRE_CLAIMS', 'AUTHZ_REQUIRE_EMAIL_VERIFIED']);
    expect(problems({ AUTHZ_COOKIE_NAME: 'a=b' })).toEqual(['AUTHZ_COOKIE_NAME']);
    expect(problems({ AUTHZ_COOKIE_NAME: 'x'.repeat(65) })).toEqual(['AUTHZ_COOKIE_NAME']);
    expect(problems({ AUTHZ_REQUIRE_CLAIMS: 'r\u00f4le' })).toEqual(['AUTHZ_REQUIRE_CLAIMS']);
  });

  it('local mode takes them too (forward-auth in front of a local bridge is how a proxy config is developed)', () => {
    const config = loadConfig({ NODE_ENV: 'development', AUTHZ_REQUIRE_CLAIMS: 'admin' }, '/nonexistent');
    expect(config.mode).toBe('local');
    expect(config.authz.requireClaims).toEqual(['admin']);
  });
});
