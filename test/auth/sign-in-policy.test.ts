import request from 'supertest';
import { loadConfig } from '../../src/config';
import { FakeGoogle } from '../../testkit/fake-google';
import { bridgeFor, configuredEnv, manualClock } from '../../testkit/harness';

describe('sign-in policy at the exchange', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  const exchange = async (env: Record<string, string>, claims: Record<string, unknown>) => {
    const { app } = bridgeFor(fake, { env });
    return request(app).post('/v1/token/google').send({ idToken: await fake.googleIdToken(claims) });
  };

  it('GOOGLE_HOSTED_DOMAINS: only accounts of a listed Workspace domain (403 access_denied otherwise)', async () => {
    const env = { GOOGLE_HOSTED_DOMAINS: 'example.com,corp.example.org' };
    await exchange(env, { hd: 'example.com' }).then((r) => expect(r.status).toBe(200));
    await exchange(env, { hd: 'CORP.example.org' }).then((r) => expect(r.status).toBe(200));
    const other = await exchange(env, { hd: 'evil.example' });
    expect(other.status).toBe(403);
    expect(other.body.error).toBe('access_denied');
    // A consumer account (no hd) whose email merely looks right is refused.
    const noHd = await exchange(env, { email: 'boss@example.com' });
    expect(noHd.status).toBe(403);
  });

  it('ALLOWED_EMAILS / ALLOWED_EMAIL_DOMAINS: either list admits; email compared case-insensitively', async () => {
    const env = { ALLOWED_EMAILS: 'Ada@Example.com', ALLOWED_EMAIL_DOMAINS: 'team.example' };
    expect((await exchange(env, { email: 'ada@example.com' })).status).toBe(200);
    expect((await exchange(env, { email: 'bob@team.example' })).status).toBe(200);
    expect((await exchange(env, { email: 'bob@example.com' })).status).toBe(403);
    // The domain is what follows the (only) @, not a suffix match.
    expect((await exchange(env, { email: 'mallory@evilteam.example' })).status).toBe(403);
    expect((await exchange(env, { email: undefined })).status).toBe(403);
  });

  it('REQUIRE_EMAIL_VERIFIED defaults to true when an email decides, and can be set explicitly', async () => {
    const env = { ALLOWED_EMAILS: 'ada@example.com' };
    const unverified = await exchange(env, { email: 'ada@example.com', email_verified: false });
    expect(unverified.status).toBe(403);
    expect(unverified.body.error_description).toMatch(/verified/);
    // Without an email rule, unverified emails may exchange (the claim says so)...
    expect((await exchange({}, { email_verified: false })).status).toBe(200);
    // ...unless REQUIRE_EMAIL_VERIFIED=true.
    expect((await exchange({ REQUIRE_EMAIL_VERIFIED: 'true' }, { email_verified: false })).status).toBe(403);
    expect(loadConfig({ ...configuredEnv(fake, '/tmp'), ALLOWED_EMAILS: 'a@b.c' }).hardening.signInPolicy.requireEmailVerified).toBe(true);
    expect(loadConfig(configuredEnv(fake, '/tmp')).hardening.signInPolicy.requireEmailVerified).toBe(false);
  });

  it('GOOGLE_AZP_ALLOWLIST: the requesting client must be listed (401 invalid_token otherwise)', async () => {
    const env = { GOOGLE_AZP_ALLOWLIST: 'android-client.apps.googleusercontent.com' };
    expect((await exchange(env, {})).status).toBe(200);
    const foreign = await exchange(env, { azp: 'someone-elses-app.apps.googleusercontent.com' });
    expect(foreign.status).toBe(401);
    expect(foreign.body.error_description).toMatch(/azp/);
    expect((await exchange(env, { azp: undefined })).status).toBe(401);
  });

  it('MAX_GOOGLE_TOKEN_AGE_SECONDS (default 600): a token issued too long ago is refused even though unexpired', async () => {
    const now = Math.floor(Date.now() / 1000);
    const old = await exchange({}, { iat: now - 660 - 1, exp: now - 660 - 1 + 3600 });
    expect(old.status).toBe(401);
    expect(old.body.error_description).toMatch(/older than 600 s/);
    // Within the age plus the clock-skew leeway it passes (on a bridge running since before the token was
    // issued: a fresh one refuses tokens from before its start, see the replay epoch).
    const running = manualClock(Date.now() - 700_000);
    const { app } = bridgeFor(fake, { clock: running });
    running.set(Date.now());
    const recent = await fake.googleIdToken({ iat: now - 600, exp: now + 3000 });
    expect((await request(app).post('/v1/token/google').send({ idToken: recent })).status).toBe(200);
    expect((await exchange({ MAX_GOOGLE_TOKEN_AGE_SECONDS: '60' }, { iat: now - 200, exp: now + 3000 })).status).toBe(401);
  });

  it('the age is measured with the injected clock', async () => {
    const clock = manualClock();
    const { app } = bridgeFor(fake, { clock });
    const iat = Math.floor(clock() / 1000);
    const token = await fake.googleIdToken({ iat, exp: iat + 3600 });
    clock.advance(700_000);
    const res = await request(app).post('/v1/token/google').send({ idToken: token });
    expect(res.status).toBe(401);
  });
});
