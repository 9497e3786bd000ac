import request from 'supertest';
import { FakeGoogle } from '../../testkit/fake-google';
import { type TestBridge, bridgeFor, manualClock } from '../../testkit/harness';
import { type Scrape, scrape } from '../../testkit/metrics';
import { RecordingPush } from '../../testkit/recording-push';

/** What changed between two scrapes, for one sample. */
function delta(before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}): number {
  return after.value(name, labels) - before.value(name, labels);
}

describe('GET /metrics after real traffic', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('counts exchanges, verifications, the cache, requests and key sets by the right amounts, with bounded labels only', async () => {
    const clock = manualClock();
    const bridge: TestBridge = bridgeFor(fake, { clock });
    const before = await scrape(bridge.app);
    expect(before.value('firebridge_exchanges_total', { outcome: 'success', reason: 'none' })).toBe(0);

    // Exchanges: two good tokens, one for another client (ERR_CLAIM_AUD), one that is not a JWT at all.
    for (let i = 0; i < 2; i += 1) {
      await request(bridge.app).post('/v1/token/google').send({ idToken: await fake.googleIdToken() }).expect(200);
    }
    const wrongAud = await request(bridge.app)
      .post('/v1/token/google')
      .send({ idToken: await fake.googleIdToken({ aud: 'someone-else.apps.googleusercontent.com' }) })
      .expect(401);
    const garbage = await request(bridge.app).post('/v1/token/google').send({ idToken: 'not-a-jwt' }).expect(401);
    expect(wrongAud.body.error_description).toMatch(/aud/);

    // Protected route: the same Firebase ID token three times (miss, miss that admits it, hit), one bad token.
    const idToken = await fake.firebaseIdToken({ sub: 'metrics-user', email: 'grace@example.com' });
    for (let i = 0; i < 3; i += 1) await request(bridge.app).get('/v1/me').set('Authorization', `Bearer ${idToken}`).expect(200);
    await request(bridge.app).get('/v1/me').set('Authorization', 'Bearer not.a.token').expect(401);
    // No route: its raw path (here shaped like a token) never becomes a label.
    await request(bridge.app).get(`/v1/${idToken}`).expect(404);

    // A day later (injected clock): the ages follow it.
    clock.advance(86_400_000);
    const after = await scrape(bridge.app);

    expect(delta(before, after, 'firebridge_exchanges_total', { outcome: 'success', reason: 'none' })).toBe(2);
    expect(delta(before, after, 'firebridge_exchanges_total', { outcome: 'refused', reason: 'ERR_CLAIM_AUD' })).toBe(1);
    expect(delta(before, after, 'firebridge_exchanges_total', { outcome: 'refused', reason: 'ERR_JWT_MALFORMED' })).toBe(1);
    expect(garbage.body.error).toBe('invalid_token');
    expect(delta(before, after, 'firebridge_verifications_total', { token: 'google', outcome: 'success', reason: 'none' })).toBe(2);
    expect(delta(before, after, 'firebridge_verifications_total', { token: 'google', outcome: 'refused', reason: 'ERR_CLAIM_AUD' })).toBe(1);
    expect(delta(before, after, 'firebridge_verifications_total', { token: 'firebase', outcome: 'success', reason: 'none' })).toBe(3);
    const firebaseRefusals = after.samples.filter(
      (s) => s.name === 'firebridge_verifications_total' && s.labels.token === 'firebase' && s.labels.outcome === 'refused',
    );
    expect(firebaseRefusals.reduce((n, s) => n + s.value, 0)).toBe(1);
    expect(firebaseRefusals[0]?.labels.reason).toMatch(/^ERR_/);

    expect(delta(before, after, 'firebridge_verified_token_cache_hits_total')).toBe(1);
    expect(delta(before, after, 'firebridge_verified_token_cache_misses_total')).toBe(3);
    expect(after.value('firebridge_verified_token_cache_entries')).toBe(1);

    const requests = (route: string, status_class: string) =>
      delta(before, after, 'firebridge_request_duration_seconds_count', { route, status_class });
    expect(requests('/v1/token/google', '2xx')).toBe(2);
    expect(requests('/v1/token/google', '4xx')).toBe(2);
    expect(requests('/v1/me', '2xx')).toBe(3);
    expect(requests('/v1/me', '4xx')).toBe(1);
    expect(requests('unmatched', '4xx')).toBe(1);
    // The first scrape itself was a request too.
    expect(requests('/metrics', '2xx')).toBe(1);
    const bucket = after.samples.find((s) => s.name === 'firebridge_request_duration_seconds_bucket' && s.labels.route === '/v1/me' && s.labels.le === '+Inf');
    expect(bucket?.value).toBe(3);

    // Key sets were fetched once each, successfully, and are a day old on the injected clock.
    for (const set of ['google', 'firebase']) {
      expect(after.value('firebridge_key_set_fetches_total', { set, outcome: 'success' })).toBe(1);
      expect(after.value('firebridge_key_set_fetches_total', { set, outcome: 'failure' })).toBe(0);
      expect(after.value('firebridge_key_set_age_seconds', { set })).toBeGreaterThanOrEqual(86_400);
      expect(after.value('firebridge_key_set_age_seconds', { set })).toBeLessThan(86_400 + 600);
      expect(after.value('firebridge_key_set_stale', { set })).toBe(0);
    }
    // The signing key (installed by bridgeFor just after the clock started: its file's mtime) is a day old too.
    const kid = bridge.deps.signing?.keyring?.keyring().active.kid as string;
    expect(after.value('firebridge_signing_key_age_seconds', { kid })).toBeGreaterThanOrEqual(86_400 - 60);
    expect(after.value('firebridge_signing_key_age_seconds', { kid })).toBeLessThan(86_400 + 600);
    expect(after.value('firebridge_store_errors_total')).toBe(0);
    // The process defaults, from this app's own registry.
    expect(after.types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(after.types.has('nodejs_eventloop_lag_seconds')).toBe(true);

    // Never a uid, an email or a token: only route patterns, error codes and fixed words.
    for (const secret of ['metrics-user', 'grace@example.com', 'ada@example.com', idToken, idToken.slice(0, 40), '110169484474386276334']) {
      expect(after.text).not.toContain(secret);
    }
    const routes = new Set(after.samples.filter((s) => s.labels.route !== undefined).map((s) => s.labels.route));
    expect([...routes].sort()).toEqual(['/metrics', '/v1/me', '/v1/token/google', 'unmatched']);
  });

  it('counts device challenges, code checks and FCM sends by outcome and reason', async () => {
    const push = new RecordingPush();
    const bridge = bridgeFor(fake, { env: { DEVICE_SIGN_IN: 'true', RATE_LIMIT_DEVICE_IP_PER_MINUTE: '0' }, push });
    const fcmToken = `abc:APA91b${'x'.repeat(100)}`;
    const challenged = await request(bridge.app).post('/v1/device/challenge').send({ fcmToken }).expect(202);
    const code = /\b\d{6}\b/.exec(JSON.stringify(push.sent[0]?.message))?.[0] as string;
    const wrongCode = ((Number(code) + 1) % 1_000_000).toString().padStart(6, '0');
    push.failWith('unregistered', undefined, 1);
    await request(bridge.app).post('/v1/device/challenge').send({ fcmToken: `${fcmToken}y` }).expect(404);
    await request(bridge.app).post('/v1/device/verify').send({ challengeId: challenged.body.challengeId, code: wrongCode }).expect(401);
    const ok = await request(bridge.app).post('/v1/device/verify').send({ challengeId: challenged.body.challengeId, code });
    const after = await scrape(bridge.app);

    expect(after.value('firebridge_fcm_sends_total', { outcome: 'success', reason: 'none' })).toBe(1);
    expect(after.value('firebridge_fcm_sends_total', { outcome: 'error', reason: 'unregistered' })).toBe(1);
    expect(after.value('firebridge_device_challenges_total', { outcome: 'success', reason: 'none' })).toBe(1);
    expect(after.value('firebridge_device_challenges_total', { outcome: 'error', reason: 'ERR_PUSH_FAILED' })).toBe(1);
    expect(after.value('firebridge_device_verifications_total', { outcome: 'refused', reason: 'ERR_DEVICE_CODE_INVALID' })).toBe(1);
    expect(ok.status).toBe(200);
    expect(after.value('firebridge_device_verifications_total', { outcome: 'success', reason: 'none' })).toBe(1);
    expect(after.text).not.toContain(fcmToken.slice(0, 20));
  });

  it('is absent (404) with METRICS_ENABLED=false, and the app serves as before', async () => {
    const bridge = bridgeFor(fake, { env: { METRICS_ENABLED: 'false' } });
    expect(bridge.deps.metricsRegistry).toBeUndefined();
    await request(bridge.app).get('/metrics').expect(404);
    await request(bridge.app).get('/healthz').expect(200);
  });

  it('METRICS_TOKEN: a scrape needs the bearer credential (401 unauthorized without one, invalid_token with another)', async () => {
    const token = 'Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5';
    const bridge = bridgeFor(fake, { env: { METRICS_TOKEN: token } });
    const missing = await request(bridge.app).get('/metrics').expect(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="firebridge-metrics"');
    expect(missing.body.error).toBe('unauthorized');
    const wrong = await request(bridge.app).get('/metrics').set('Authorization', `Bearer ${token.slice(1)}x`).expect(401);
    expect(wrong.body.error).toBe('invalid_token');
    expect(wrong.text).not.toMatch(/firebridge_/);
    const ok = await request(bridge.app).get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);
    expect(ok.text).toMatch(/^# HELP /m);
    await request(bridge.app).post('/metrics').set('Authorization', `Bearer ${token}`).expect(405);
  });
});
