import request from 'supertest';
import type { Clock } from '../../src/clock';
import { FakeGoogle } from '../../testkit/fake-google';
import { type TestBridge, bridgeFor, manualClock } from '../../testkit/harness';
import { generateTestKey, type TestKey } from '../../testkit/keys';
import { listen, randomKid } from '../../testkit/key-set-helpers';

/**
 * The kid cache through the whole app: real fetch over loopback to the fake Google, whose
 * endpoints count their hits. Tokens are issued relative to the app's (manual) clock, so moving
 * the clock past max-age or the stale bound does not expire them.
 */
describe('kid cache over HTTP against the fake Google', () => {
  let fake: FakeGoogle;
  let stranger: TestKey; // a key the fake never publishes
  const servers: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    fake = await FakeGoogle.start();
    stranger = generateTestKey();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    for (const endpoint of [fake.google, fake.securetoken]) {
      endpoint.mode = 'ok';
      endpoint.hits = 0;
      endpoint.maxAgeSeconds = 3600;
    }
  });
  afterEach(async () => {
    // Restore 'ok' before closing so nothing keeps hanging.
    fake.google.mode = 'ok';
    fake.securetoken.mode = 'ok';
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function serve(bridge: TestBridge): Promise<string> {
    const s = await listen(bridge.app);
    servers.push(s);
    return s.url;
  }

  function times(clock: Clock) {
    const now = Math.floor(clock() / 1000);
    return { iat: now, exp: now + 3600 };
  }

  const firebaseToken = (clock: Clock, options: { key?: TestKey; header?: Record<string, unknown> } = {}) =>
    fake.firebaseIdToken({ ...times(clock), auth_time: Math.floor(clock() / 1000) - 10 }, options);
  const googleToken = (clock: Clock, options: { key?: TestKey; header?: Record<string, unknown> } = {}) =>
    fake.googleIdToken(times(clock), options);

  const me = (url: string, token: string) => request(url).get('/v1/me').set('Authorization', `Bearer ${token}`);
  const exchange = (url: string, token: string) => request(url).post('/v1/token/google').send({ idToken: token });

  function expectUnavailable(res: request.Response): void {
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    const body = JSON.stringify(res.body);
    expect(body).not.toMatch(/127\.0\.0\.1|http:|https:|securetoken@|oauth2|certs|stack|Error|\bat \S+ \(|timed out|HTTP \d/);
  }

  describe('max-age', () => {
    it('Firebase keys: N verifications within max-age cost one fetch; past max-age exactly one more', async () => {
      fake.securetoken.maxAgeSeconds = 120;
      const clock = manualClock();
      const bridge = bridgeFor(fake, { clock });
      const url = await serve(bridge);
      for (let i = 0; i < 10; i++) {
        await me(url, await firebaseToken(clock)).expect(200);
        clock.advance(11_000); // 10 × 11 s = 110 s < 120 s
      }
      expect(fake.securetoken.hits).toBe(1);
      clock.advance(10_001); // 120.001 s after the fetch
      for (let i = 0; i < 5; i++) await me(url, await firebaseToken(clock)).expect(200);
      expect(fake.securetoken.hits).toBe(2);
      expect(fake.google.hits).toBe(0);
    });

    it('Google keys: the same for POST /v1/token/google', async () => {
      fake.google.maxAgeSeconds = 60;
      const clock = manualClock();
      const bridge = bridgeFor(fake, { clock });
      const url = await serve(bridge);
      for (let i = 0; i < 5; i++) await exchange(url, await googleToken(clock)).expect(200);
      clock.advance(59_000);
      await exchange(url, await googleToken(clock)).expect(200);
      expect(fake.google.hits).toBe(1);
      clock.advance(1_001);
      for (let i = 0; i < 5; i++) await exchange(url, await googleToken(clock)).expect(200);
      expect(fake.google.hits).toBe(2);
      expect(fake.securetoken.hits).toBe(0);
    });

    it('max-age=0 from the publisher does not refetch on every request', async () => {
      fake.securetoken.maxAgeSeconds = 0;
      const clock = manualClock();
      const url = await serve(bridgeFor(fake, { clock }));
      for (let i = 0; i < 10; i++) {
        await me(url, await firebaseToken(clock)).expect(200);
        clock.advance(1_000);
      }
      expect(fake.securetoken.hits).toBe(1);
    });
  });

  describe('single flight', () => {
    it('a rotated securetoken key: 50 concurrent requests cause exactly one refetch and all succeed', async () => {
      const clock = manualClock();
      const url = await serve(bridgeFor(fake, { clock }));
      await me(url, await firebaseToken(clock)).expect(200);
      expect(fake.securetoken.hits).toBe(1);
      const rotated = fake.rotateSecuretoken();
      clock.advance(10_001); // past CERTS_REFETCH_COOLDOWN_MS (default 10 000)
      const token = await firebaseToken(clock, { key: rotated });
      const responses = await Promise.all(Array.from({ length: 50 }, () => me(url, token)));
      expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
      expect(fake.securetoken.hits).toBe(2);
    });

    it('a rotated Google key: 50 concurrent exchanges cause exactly one refetch and all succeed', async () => {
      const clock = manualClock();
      const url = await serve(bridgeFor(fake, { clock }));
      await exchange(url, await googleToken(clock)).expect(200);
      const rotated = fake.rotateGoogle();
      clock.advance(10_001);
      const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => fake.googleIdToken({ ...times(clock), sub: `1000000000000000000${10 + i}` }, { key: rotated })));
      const responses = await Promise.all(tokens.map((t) => exchange(url, t)));
      expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
      expect(fake.google.hits).toBe(2);
    });

    it('a cold cache under a burst: 200 concurrent requests, one fetch, all succeed', async () => {
      const url = await serve(bridgeFor(fake));
      const token = await firebaseToken(Date.now);
      const responses = await Promise.all(Array.from({ length: 200 }, () => me(url, token)));
      expect(responses.map((r) => r.status)).toEqual(Array(200).fill(200));
      expect(fake.securetoken.hits).toBe(1);
    });
  });

  describe('unknown kids are rate limited', () => {
    async function flood(url: string, clock: Clock, n: number): Promise<request.Response[]> {
      const tokens = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          // Half signed by a key the fake never publishes under its own kid, half under random kids.
          firebaseToken(clock, { key: stranger, header: i % 2 === 0 ? { kid: randomKid() } : {} }),
        ),
      );
      return Promise.all(tokens.map((t) => me(url, t)));
    }

    function expectAllInvalid(responses: request.Response[]): void {
      for (const res of responses) {
        expect(res.status).toBe(401);
        expect(res.body.error).toBe('invalid_token');
        expect(res.headers['www-authenticate']).toMatch(/^Bearer .*error="invalid_token"/);
      }
    }

    it('a flood of 200 random kids on a cold cache: ≤ 2 fetches in all, every one 401 invalid_token', async () => {
      const clock = manualClock();
      const url = await serve(bridgeFor(fake, { clock }));
      const responses = await flood(url, clock, 200);
      expectAllInvalid(responses);
      expect(fake.securetoken.hits).toBeLessThanOrEqual(2);
      expect(fake.securetoken.hits).toBeGreaterThanOrEqual(1);
    });

    it('after the cooldown a flood causes exactly one refetch; after the next cooldown one more is allowed', async () => {
      const clock = manualClock();
      const url = await serve(bridgeFor(fake, { clock }));
      await me(url, await firebaseToken(clock)).expect(200);
      clock.advance(10_001);
      expectAllInvalid(await flood(url, clock, 200));
      expect(fake.securetoken.hits).toBe(2);
      expectAllInvalid(await flood(url, clock, 20));
      expect(fake.securetoken.hits).toBe(2);
      clock.advance(10_001);
      expectAllInvalid(await flood(url, clock, 20));
      expect(fake.securetoken.hits).toBe(3);
      // The published key still verifies without any fetch.
      await me(url, await firebaseToken(clock)).expect(200);
      expect(fake.securetoken.hits).toBe(3);
    });
  });

  describe('stale-if-error', () => {
    it.each(['fail', 'garbage'] as const)(
      "a '%s' refresh serves the last good keys until CERTS_MAX_STALE_SECONDS, logs it, then answers 503",
      async (mode) => {
        fake.securetoken.maxAgeSeconds = 60;
        const clock = manualClock();
        const bridge = bridgeFor(fake, { clock }); // default CERTS_MAX_STALE_SECONDS: 21600
        expect(bridge.config.certsMaxStaleSeconds).toBe(21_600);
        const url = await serve(bridge);
        const t0 = clock();
        await me(url, await firebaseToken(clock)).expect(200);
        fake.securetoken.mode = mode;

        clock.set(t0 + 61_000); // expired
        await me(url, await firebaseToken(clock)).expect(200);
        expect(fake.securetoken.hits).toBe(2);
        expect(bridge.logs.text).toContain('key set refresh failed');

        clock.set(t0 + 60_000 + 21_600_000 - 1_000); // just inside the stale bound
        await me(url, await firebaseToken(clock)).expect(200);

        clock.set(t0 + 61_000 + 21_600_000 + 1_000); // past it
        const res = await me(url, await firebaseToken(clock));
        expectUnavailable(res);
        expect(res.headers['www-authenticate']).toBeUndefined();

        // Same through the Google route, whose cache has its own stale bound.
        fake.google.maxAgeSeconds = 60;
        const gClock = manualClock();
        const gBridge = bridgeFor(fake, { clock: gClock, env: { CERTS_MAX_STALE_SECONDS: '300' } });
        const gUrl = await serve(gBridge);
        await exchange(gUrl, await googleToken(gClock)).expect(200);
        fake.google.mode = mode;
        gClock.advance(61_000 + 200_000);
        await exchange(gUrl, await googleToken(gClock)).expect(200);
        expect(gBridge.logs.text).toContain('key set refresh failed');
        gClock.advance(100_000);
        expectUnavailable(await exchange(gUrl, await googleToken(gClock)));
      },
    );

    it('during an outage with expired keys, repeated requests do not each hit the fake (failure cooldown)', async () => {
      fake.securetoken.maxAgeSeconds = 60;
      const clock = manualClock();
      const bridge = bridgeFor(fake, { clock });
      const url = await serve(bridge);
      await me(url, await firebaseToken(clock)).expect(200);
      fake.securetoken.mode = 'fail';
      clock.advance(61_000);
      const token = await firebaseToken(clock);
      for (let i = 0; i < 10; i++) await me(url, token).expect(200);
      const burst = await Promise.all(Array.from({ length: 30 }, () => me(url, token)));
      expect(burst.map((r) => r.status)).toEqual(Array(30).fill(200));
      expect(fake.securetoken.hits).toBe(2);
      clock.advance(10_001);
      for (let i = 0; i < 10; i++) await me(url, token).expect(200);
      expect(fake.securetoken.hits).toBe(3);
      expect(bridge.logs.text.match(/key set refresh failed/g)).toHaveLength(2);
    });

    it('past the stale bound, repeated 503s do not each hit the fake either', async () => {
      fake.securetoken.maxAgeSeconds = 60;
      const clock = manualClock();
      const url = await serve(bridgeFor(fake, { clock, env: { CERTS_MAX_STALE_SECONDS: '0' } }));
      await me(url, await firebaseToken(clock)).expect(200);
      fake.securetoken.mode = 'fail';
      clock.advance(61_000);
      const token = await firebaseToken(clock);
      const responses = await Promise.all(Array.from({ length: 20 }, () => me(url, token)));
      for (let i = 0; i < 20; i++) responses.push(await me(url, token));
      for (const res of responses) expectUnavailable(res);
      expect(fake.securetoken.hits).toBe(2);
    });
  });

  describe('fetch timeout', () => {
    const env = { CERTS_FETCH_TIMEOUT_MS: '300' };

    it('cold cache and a hanging publisher: 503 well under 2 s', async () => {
      fake.securetoken.mode = 'hang';
      const url = await serve(bridgeFor(fake, { env }));
      const token = await firebaseToken(Date.now);
      const started = Date.now();
      const res = await me(url, token);
      const elapsed = Date.now() - started;
      expectUnavailable(res);
      expect(elapsed).toBeLessThan(1_500);
      expect(fake.securetoken.hits).toBe(1);
    });

    it('cold cache and a hanging publisher on the Google route: 503 well under 2 s', async () => {
      fake.google.mode = 'hang';
      const url = await serve(bridgeFor(fake, { env }));
      const token = await googleToken(Date.now);
      const started = Date.now();
      const res = await exchange(url, token);
      expect(Date.now() - started).toBeLessThan(1_500);
      expectUnavailable(res);
    });

    it('warm but expired keys and a hanging publisher: answered from stale keys within about the timeout', async () => {
      fake.securetoken.maxAgeSeconds = 60;
      const clock = manualClock();
      const bridge = bridgeFor(fake, { clock, env });
      const url = await serve(bridge);
      await me(url, await firebaseToken(clock)).expect(200);
      fake.securetoken.mode = 'hang';
      clock.advance(61_000);
      const token = await firebaseToken(clock);
      const started = Date.now();
      await me(url, token).expect(200);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(1_200);
      expect(bridge.logs.text).toContain('key set refresh failed');
      expect(bridge.logs.text).toMatch(/timed out after 300 ms/);
      // Within the cooldown the next request does not wait at all.
      const again = Date.now();
      await me(url, token).expect(200);
      expect(Date.now() - again).toBeLessThan(250);
      expect(fake.securetoken.hits).toBe(2);
    });
  });

  describe('cold start', () => {
    it('with the publisher failing: 503 (not 500, no hang); after recovery and the cooldown: 200', async () => {
      fake.securetoken.mode = 'fail';
      const clock = manualClock();
      const bridge = bridgeFor(fake, { clock });
      const url = await serve(bridge);
      const started = Date.now();
      expectUnavailable(await me(url, await firebaseToken(clock)));
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(bridge.logs.text).toContain('key set refresh failed');
      fake.securetoken.mode = 'ok';
      // Still within the cooldown: no new attempt yet.
      expectUnavailable(await me(url, await firebaseToken(clock)));
      expect(fake.securetoken.hits).toBe(1);
      clock.advance(10_001);
      await me(url, await firebaseToken(clock)).expect(200);
      expect(fake.securetoken.hits).toBe(2);
    });

    it('with garbage from the publisher: 503, then 200 once it recovers', async () => {
      fake.google.mode = 'garbage';
      const clock = manualClock();
      const url = await serve(bridgeFor(fake, { clock }));
      expectUnavailable(await exchange(url, await googleToken(clock)));
      fake.google.mode = 'ok';
      clock.advance(10_001);
      await exchange(url, await googleToken(clock)).expect(200);
      expect(fake.google.hits).toBe(2);
    });
  });
});
