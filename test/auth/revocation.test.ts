import { decodeJwt } from 'jose';
import request from 'supertest';
import { FakeGoogle, type TestServiceAccount } from '../../testkit/fake-google';
import { FakeIam } from '../../testkit/fake-iam';
import { FakeIdentityToolkit } from '../../testkit/fake-identity-toolkit';
import { bridgeFor, manualClock } from '../../testkit/harness';
import { type IdentityToolkitFakes, startIdentityToolkitFakes } from '../../testkit/identity-toolkit-fakes';

const ADMIN_TOKEN = 'admin-secret-0123456789-abcdefghijklmnop';

describe('revocation check (CHECK_REVOKED) and POST /v1/admin/revoke', () => {
  let fake: FakeGoogle;
  let iam: FakeIam;
  let toolkit: FakeIdentityToolkit;
  let account: TestServiceAccount;

  let fakes: IdentityToolkitFakes;
  beforeAll(async () => {
    fakes = await startIdentityToolkitFakes();
    ({ fake, iam, toolkit, account } = fakes);
  });
  afterAll(() => fakes.close());
  beforeEach(() => {
    toolkit.calls.length = 0;
    toolkit.failWith = undefined;
    toolkit.users.clear();
  });

  function bridge(env: Record<string, string> = {}, clock = manualClock()) {
    const built = bridgeFor(fake, {
      account,
      clock,
      env: {
        CHECK_REVOKED: 'true',
        IDENTITY_TOOLKIT_URL: toolkit.url,
        GOOGLE_TOKEN_URL: iam.tokenUrl,
        ...env,
      },
    });
    return { ...built, clock };
  }

  /** A Firebase ID token issued "now" by the manual clock. */
  async function idToken(clock: () => number, uid: string, authTimeOffset = -10) {
    const now = Math.floor(clock() / 1000);
    return fake.firebaseIdToken({ sub: uid, user_id: uid, iat: now, exp: now + 3600, auth_time: now + authTimeOffset });
  }

  it('looks the user up with a service-account access token, once per REVOCATION_CACHE_SECONDS', async () => {
    toolkit.users.set('u1', {});
    const { app, clock } = bridge({ REVOCATION_CACHE_SECONDS: '30' });
    const token = await idToken(clock, 'u1');
    for (let i = 0; i < 5; i++) await request(app).get('/v1/me').set('Authorization', `Bearer ${token}`).expect(200);
    expect(toolkit.callsTo('lookup')).toHaveLength(1);
    const call = toolkit.callsTo('lookup')[0]!;
    expect(call.path).toBe(`/v1/projects/${fake.projectId}/accounts:lookup`);
    expect(call.body).toEqual({ localId: ['u1'] });
    const bearer = call.authorization?.replace(/^Bearer /, '') ?? '';
    expect(iam.issuedTokens).toContain(bearer);
    // The access token was obtained with a JWT-bearer grant signed by the signing key.
    const grant = iam.requests.find((r) => r.path === '/token');
    const assertion = new URLSearchParams(grant?.body ?? '').get('assertion') ?? '';
    expect(decodeJwt(assertion)).toMatchObject({ iss: account.clientEmail, aud: iam.assertionAudience });

    clock.advance(31_000);
    await request(app).get('/v1/me').set('Authorization', `Bearer ${token}`).expect(200);
    expect(toolkit.callsTo('lookup')).toHaveLength(2);
  });

  it('concurrent requests for one user share one lookup', async () => {
    toolkit.users.set('u-burst', {});
    const { app, clock } = bridge();
    const token = await idToken(clock, 'u-burst');
    await Promise.all(Array.from({ length: 20 }, () => request(app).get('/v1/me').set('Authorization', `Bearer ${token}`).expect(200)));
    expect(toolkit.callsTo('lookup')).toHaveLength(1);
  });

  it('refuses a disabled user, a deleted user, and a token older than validSince', async () => {
    const { app, clock } = bridge();
    toolkit.users.set('disabled', { disabled: true });
    const disabled = await request(app).get('/v1/me').set('Authorization', `Bearer ${await idToken(clock, 'disabled')}`).expect(401);
    expect(disabled.headers['www-authenticate']).toMatch(/error_description="the user is disabled"/);

    await request(app).get('/v1/me').set('Authorization', `Bearer ${await idToken(clock, 'deleted')}`).expect(401);

    const now = Math.floor(clock() / 1000);
    toolkit.users.set('revoked', { validSince: now - 5 });
    const before = await request(app).get('/v1/me').set('Authorization', `Bearer ${await idToken(clock, 'revoked', -10)}`).expect(401);
    expect(before.body.error_description).toBe('the token has been revoked');
    // A session that signed in after validSince passes.
    await request(app).get('/v1/me').set('Authorization', `Bearer ${await idToken(clock, 'revoked', -1)}`).expect(200);
  });

  it('the cache of verified tokens never bypasses the check: a cached token is refused once the user is disabled', async () => {
    toolkit.users.set('u2', {});
    const { app, clock } = bridge({ REVOCATION_CACHE_SECONDS: '5' });
    const token = await idToken(clock, 'u2');
    await request(app).get('/v1/me').set('Authorization', `Bearer ${token}`).expect(200);
    toolkit.users.set('u2', { disabled: true });
    clock.advance(6_000);
    await request(app).get('/v1/me').set('Authorization', `Bearer ${token}`).expect(401);
  });

  it('when Identity Toolkit fails, the request is 503 (never waved through), retried a bounded number of times', async () => {
    toolkit.users.set('u3', {});
    toolkit.failWith = 500;
    const { app, clock } = bridge();
    const res = await request(app).get('/v1/me').set('Authorization', `Bearer ${await idToken(clock, 'u3')}`).expect(503);
    expect(res.body.error).toBe('temporarily_unavailable');
    expect(toolkit.callsTo('lookup')).toHaveLength(3); // first try + 2 retries
  });

  describe('one deadline per request for everything it waits on (GOOGLE_API_TIMEOUT_MS), no retries inside retries', () => {
    const TIMEOUT_MS = 600;
    afterEach(() => {
      toolkit.hang = false;
      iam.hangToken = false;
    });

    async function timed(app: Parameters<typeof request>[0], token: string): Promise<{ status: number; ms: number }> {
      const started = performance.now();
      const res = await request(app).get('/v1/me').set('Authorization', `Bearer ${token}`);
      return { status: res.status, ms: performance.now() - started };
    }

    it('a hanging Identity Toolkit costs one timeout, not one per attempt', async () => {
      toolkit.users.set('slow-1', {});
      const { app, clock } = bridge({ GOOGLE_API_TIMEOUT_MS: String(TIMEOUT_MS) });
      // Warm the access token first, so only the lookup hangs.
      await request(app).get('/v1/me').set('Authorization', `Bearer ${await idToken(clock, 'slow-1')}`).expect(200);
      toolkit.hang = true;
      const { status, ms } = await timed(app, await idToken(clock, 'slow-2'));
      expect(status).toBe(503);
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(ms).toBeLessThan(TIMEOUT_MS * 1.5);
    });

    it('a hanging token endpoint costs one timeout too (the token fetch is inside the same deadline, and not retried by itself)', async () => {
      const { app, clock } = bridge({ GOOGLE_API_TIMEOUT_MS: String(TIMEOUT_MS) });
      iam.hangToken = true;
      const tokenCallsBefore = iam.requests.filter((r) => r.path === '/token').length;
      const { status, ms } = await timed(app, await idToken(clock, 'slow-3'));
      expect(status).toBe(503);
      expect(ms).toBeLessThan(TIMEOUT_MS * 1.5);
      // One token request in flight, shared: never one per lookup attempt.
      expect(iam.requests.filter((r) => r.path === '/token').length - tokenCallsBefore).toBe(1);
      expect(toolkit.callsTo('lookup')).toHaveLength(0);
    });
  });

  it('a failing Identity Toolkit trips the circuit: no more calls until it half-opens', async () => {
    toolkit.failWith = 503;
    const { app, clock } = bridge({ REVOCATION_CACHE_SECONDS: '0' });
    for (let i = 0; i < 4; i++) {
      await request(app).get('/v1/me').set('Authorization', `Bearer ${await idToken(clock, `c${i}`)}`).expect(503);
    }
    // 5 consecutive failed calls opened the circuit during the second request: at most 6 calls, not 12.
    expect(toolkit.callsTo('lookup').length).toBeLessThanOrEqual(6);
    const afterOpen = toolkit.callsTo('lookup').length;
    await request(app).get('/v1/me').set('Authorization', `Bearer ${await idToken(clock, 'c9')}`).expect(503);
    expect(toolkit.callsTo('lookup').length).toBe(afterOpen);
    toolkit.failWith = undefined;
    toolkit.users.set('c10', {});
    clock.advance(10_000);
    await request(app).get('/v1/me').set('Authorization', `Bearer ${await idToken(clock, 'c10')}`).expect(200);
  });

  it('admin endpoints are off by default', async () => {
    const { app } = bridge();
    await request(app).post('/v1/admin/revoke').send({ uid: 'u' }).expect(404);
  });

  it('POST /v1/admin/revoke needs the admin credential, revokes in Identity Toolkit, and takes effect at once here', async () => {
    toolkit.users.set('victim', {});
    const { app, clock, logs } = bridge({ ADMIN_API_TOKEN: ADMIN_TOKEN });
    const token = await idToken(clock, 'victim');
    await request(app).get('/v1/me').set('Authorization', `Bearer ${token}`).expect(200);

    const none = await request(app).post('/v1/admin/revoke').send({ uid: 'victim' }).expect(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="firebridge-admin"');
    await request(app).post('/v1/admin/revoke').set('Authorization', 'Bearer wrong-token').send({ uid: 'victim' }).expect(401);
    // A user's own Firebase ID token is not an admin credential.
    await request(app).post('/v1/admin/revoke').set('Authorization', `Bearer ${token}`).send({ uid: 'victim' }).expect(401);
    expect(toolkit.callsTo('update')).toHaveLength(0);

    await request(app).post('/v1/admin/revoke').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({}).expect(400);
    clock.advance(1_000);
    const ok = await request(app).post('/v1/admin/revoke').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ uid: 'victim' }).expect(200);
    expect(ok.body).toEqual({ uid: 'victim', revoked: true, validSince: Math.floor(clock() / 1000) });
    const update = toolkit.callsTo('update')[0]!;
    expect(update.body).toEqual({ localId: 'victim', validSince: String(ok.body.validSince) });
    expect(iam.issuedTokens).toContain(update.authorization?.replace(/^Bearer /, ''));

    // No waiting for REVOCATION_CACHE_SECONDS on this instance.
    await request(app).get('/v1/me').set('Authorization', `Bearer ${token}`).expect(401);
    expect(logs.text).not.toContain(ADMIN_TOKEN);
    expect(logs.text).toContain('sessions revoked');
  });

  it('an admin revoke that Identity Toolkit fails is 503 (retry later), not 500', async () => {
    toolkit.users.set('v2', {});
    toolkit.failWith = 500;
    const { app } = bridge({ ADMIN_API_TOKEN: ADMIN_TOKEN });
    const res = await request(app).post('/v1/admin/revoke').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ uid: 'v2' }).expect(503);
    expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable; retry later' });
    expect(res.headers['retry-after']).toBe('5');
  });

  it('ADMIN_API_TOKEN must be long enough, and usable as a Bearer token', () => {
    expect(() => bridge({ ADMIN_API_TOKEN: 'short' })).toThrow(/ADMIN_API_TOKEN/);
    expect(() => bridge({ ADMIN_API_TOKEN: `${'x'.repeat(32)}#!` })).toThrow(/ADMIN_API_TOKEN: may contain only/);
  });
});
