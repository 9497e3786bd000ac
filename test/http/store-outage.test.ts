/**
 * Redis outages, feature by feature: rate limits fail open with a warning (RATE_LIMIT_ON_STORE_ERROR=open, the
 * default) or closed with 503; replay marks and nonces always fail closed (503); /readyz reports the store; the
 * bridge reconnects by itself when Redis comes back.
 */
import request from 'supertest';
import { FakeGoogle } from '../../testkit/fake-google';
import { bridgeFor } from '../../testkit/harness';
import { OwnRedis, freePort } from '../../testkit/redis-server';

describe('store outage policy', () => {
  let fake: FakeGoogle;
  let unreachable: string;
  const bridges: Array<{ deps: { store: { close(): Promise<void> } } }> = [];
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    // A free port nothing listens on: every connection is refused.
    unreachable = `redis://127.0.0.1:${await freePort()}/0`;
  });
  afterAll(async () => {
    await Promise.all(bridges.map((bridge) => bridge.deps.store.close()));
    await fake.close();
  });

  const bridge = (env: Record<string, string>) => {
    const built = bridgeFor(fake, { env });
    bridges.push(built);
    return built;
  };

  it('rate limits fail open by default: the request goes through, and a warning is logged', async () => {
    const { app, logs } = bridge({ REDIS_URL: unreachable, RATE_LIMIT_EXCHANGE_PER_MINUTE: '1' });
    // Twice over the limit of 1: never 429 (nothing can count) and never 503 (open); the junk token is 401.
    for (let i = 0; i < 3; i++) await request(app).post('/v1/token/google').send({ idToken: 'junk' }).expect(401);
    const warnings = logs.entries().filter((entry) => entry.msg === 'rate limit store failed; request allowed');
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatchObject({ level: 40, limit: 'exchange', policy: 'open' });
  }, 20_000);

  it('RATE_LIMIT_ON_STORE_ERROR=closed: the limited route answers 503 (temporarily_unavailable) while the store fails', async () => {
    const { app, logs } = bridge({ REDIS_URL: unreachable, RATE_LIMIT_ON_STORE_ERROR: 'closed' });
    const res = await request(app).post('/v1/token/google').send({ idToken: 'junk' }).expect(503);
    expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    expect(res.headers['retry-after']).toBe('5');
    await request(app).post('/v1/nonce').expect(503);
    expect(logs.entries().some((entry) => entry.msg === 'rate limit store failed; request refused' && entry.policy === 'closed')).toBe(true);
  }, 20_000);

  it('replay marks and nonces fail closed whatever the rate-limit policy: a valid exchange and a nonce are 503', async () => {
    const { app } = bridge({ REDIS_URL: unreachable, RATE_LIMIT_ON_STORE_ERROR: 'open' });
    const exchange = await request(app).post('/v1/token/google').send({ idToken: await fake.googleIdToken() });
    expect(exchange.status).toBe(503);
    expect(exchange.body.error).toBe('temporarily_unavailable');
    await request(app).post('/v1/nonce').expect(503);
  }, 20_000);

  it('/readyz reports the store: 503 with {backend: redis, reachable: false}', async () => {
    const { app } = bridge({ REDIS_URL: unreachable });
    const res = await request(app).get('/readyz').expect(503);
    expect(res.body).toEqual({
      status: 'not_ready',
      reason: 'shared store unreachable',
      store: { backend: 'redis', reachable: false },
      audit: { writable: true, pending: expect.any(Number), dropped: 0 },
    });
  }, 20_000);

  it('the bridge reconnects by itself: ready, not ready while Redis is down, ready again once it is back', async () => {
    const redis = await OwnRedis.start();
    try {
      const { app } = bridge({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'outage-test:' });
      const ready = async () => (await request(app).get('/readyz')).status;
      const waitFor = async (status: number) => {
        const deadline = Date.now() + 10_000;
        while ((await ready()) !== status) {
          if (Date.now() > deadline) throw new Error(`/readyz never became ${status}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };
      await waitFor(200);
      expect((await request(app).get('/readyz')).body.store).toEqual({ backend: 'redis', reachable: true });
      await redis.stop();
      await waitFor(503);
      await request(app).post('/v1/nonce').expect(503);
      await redis.restart();
      await waitFor(200);
      await request(app).post('/v1/nonce').expect(200);
    } finally {
      await redis.close();
    }
  }, 30_000);
});
