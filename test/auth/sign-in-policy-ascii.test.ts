import request from 'supertest';
import { ConfigError, loadConfig } from '../../src/config';
import { FakeGoogle } from '../../testkit/fake-google';
import { bridgeFor, configuredEnv } from '../../testkit/harness';

const KELVIN = '\u212A'; // KELVIN SIGN: 'K'.toLowerCase() of it is an ASCII "k"

describe('sign-in policy: domains and emails compare ASCII-only, with exactly one @', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  const exchange = async (env: Record<string, string>, claims: Record<string, unknown>) => {
    const { app } = bridgeFor(fake, { env });
    return request(app).post('/v1/token/google').send({ idToken: await fake.googleIdToken(claims) });
  };

  it('hd "\\u212Aodak.example" (KELVIN SIGN) does not pass GOOGLE_HOSTED_DOMAINS=kodak.example', async () => {
    const env = { GOOGLE_HOSTED_DOMAINS: 'kodak.example' };
    const kelvin = await exchange(env, { hd: `${KELVIN}odak.example` });
    expect(kelvin.status).toBe(403);
    expect(kelvin.body).toMatchObject({ error: 'access_denied' });
    // Other Unicode that folds or maps onto ASCII is refused too; ASCII upper case still matches.
    for (const hd of ['KODAK.EXAMPL\u0130', 'kodak\uFF0Eexample', 'kodak.example\u200B', 'ｋodak.example']) {
      expect((await exchange(env, { hd })).status).toBe(403);
    }
    expect((await exchange(env, { hd: 'KODAK.Example' })).status).toBe(200);
  });

  it('a@evil.com@kodak.example does not pass ALLOWED_EMAIL_DOMAINS=kodak.example (exactly one @)', async () => {
    const env = { ALLOWED_EMAIL_DOMAINS: 'kodak.example' };
    const twoAts = await exchange(env, { email: 'a@evil.com@kodak.example', email_verified: true });
    expect(twoAts.status).toBe(403);
    expect(twoAts.body).toMatchObject({ error: 'access_denied' });
    for (const email of ['"a@evil.com"@kodak.example', '@kodak.example', 'kodak.example', 'ada@', `ada@${KELVIN}odak.example`]) {
      expect((await exchange(env, { email, email_verified: true })).status).toBe(403);
    }
    expect((await exchange(env, { email: 'Ada@KODAK.example', email_verified: true })).status).toBe(200);
  });

  it('ALLOWED_EMAILS compares ASCII-only too: a KELVIN SIGN in the name does not match', async () => {
    const env = { ALLOWED_EMAILS: 'kate@kodak.example' };
    expect((await exchange(env, { email: `${KELVIN}ate@kodak.example`, email_verified: true })).status).toBe(403);
    expect((await exchange(env, { email: 'kate@kodak.example@kodak.example', email_verified: true })).status).toBe(403);
    expect((await exchange(env, { email: 'KATE@kodak.example', email_verified: true })).status).toBe(200);
  });

  const settingError = (env: Record<string, string>): ConfigError => {
    try {
      loadConfig({ ...configuredEnv(fake, '/tmp'), ...env });
    } catch (err) {
      if (err instanceof ConfigError) return err;
      throw err;
    }
    throw new Error('loadConfig accepted it');
  };

  it('the settings refuse non-ASCII domains and emails, and emails without exactly one @, naming the setting', () => {
    for (const name of ['GOOGLE_HOSTED_DOMAINS', 'ALLOWED_EMAIL_DOMAINS']) {
      const err = settingError({ [name]: `${KELVIN}odak.example` });
      expect(err.setting).toBe(name);
      expect(err.message).toContain('U+212A');
      for (const bad of ['b\u00FCcher.example', '@kodak.example', 'kodak.example.', 'kodak..example', '-kodak.example', 'a@kodak.example']) {
        expect(settingError({ [name]: bad }).setting).toBe(name);
      }
    }
    expect(settingError({ ALLOWED_EMAILS: `${KELVIN}ate@kodak.example` }).message).toMatch(/^ALLOWED_EMAILS: .*U\+212A/);
    for (const bad of ['a@evil.com@kodak.example', 'kodak.example', 'ada@', '@kodak.example', 'ada@kodak..example', 'ada@b\u00FCcher.example']) {
      expect(settingError({ ALLOWED_EMAILS: bad }).setting).toBe('ALLOWED_EMAILS');
    }
  });

  it('the settings keep ASCII values, lower-cased A-Z only (punycode domains are fine)', () => {
    const policy = loadConfig({
      ...configuredEnv(fake, '/tmp'),
      GOOGLE_HOSTED_DOMAINS: 'KODAK.example,xn--bcher-kva.example',
      ALLOWED_EMAILS: 'Kate@Kodak.Example',
      ALLOWED_EMAIL_DOMAINS: 'Team-1.Kodak.example',
    }).hardening.signInPolicy;
    expect(policy.hostedDomains).toEqual(['kodak.example', 'xn--bcher-kva.example']);
    expect(policy.allowedEmails).toEqual(['kate@kodak.example']);
    expect(policy.allowedEmailDomains).toEqual(['team-1.kodak.example']);
  });
});
