import request from 'supertest';
import { clientKey } from '../../src/http/client-ip';
import { FakeGoogle } from '../../testkit/fake-google';
import { bridgeFor, manualClock } from '../../testkit/harness';

describe('per-client-IP rate limits', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('RATE_LIMIT_EXCHANGE_PER_MINUTE: the next request is 429 with Retry-After; the window resets', async () => {
    const clock = manualClock();
    const { app } = bridgeFor(fake, { clock, env: { RATE_LIMIT_EXCHANGE_PER_MINUTE: '3' } });
    for (let i = 0; i < 3; i++) {
      const res = await request(app).post('/v1/token/google').send({ idToken: 'junk' });
      expect(res.status).toBe(401); // counted even when the token is bad
      expect(res.headers['ratelimit-remaining']).toBe(String(2 - i));
    }
    const limited = await request(app).post('/v1/token/google').send({ idToken: 'junk' }).expect(429);
    expect(limited.body).toEqual({ error: 'too_many_requests', error_description: expect.stringMatching(/retry in 60 s/) });
    expect(limited.headers['retry-after']).toBe('60');
    clock.advance(30_000);
    expect((await request(app).post('/v1/token/google').send({ idToken: 'junk' })).headers['retry-after']).toBe('30');
    clock.advance(30_001);
    await request(app).post('/v1/token/google').send({ idToken: 'junk' }).expect(401);
  });

  it('the default is 60 per minute on the exchange', async () => {
    const { app } = bridgeFor(fake);
    const res = await request(app).post('/v1/token/google').send({ idToken: 'junk' });
    expect(res.headers['ratelimit-limit']).toBe('60');
  });

  it('RATE_LIMIT_NONCE_PER_MINUTE limits POST /v1/nonce separately', async () => {
    const { app } = bridgeFor(fake, { env: { RATE_LIMIT_NONCE_PER_MINUTE: '2', RATE_LIMIT_EXCHANGE_PER_MINUTE: '2' } });
    await request(app).post('/v1/nonce').expect(200);
    await request(app).post('/v1/nonce').expect(200);
    await request(app).post('/v1/nonce').expect(429);
    await request(app).post('/v1/token/google').send({ idToken: 'junk' }).expect(401);
  });

  it('X-Forwarded-For is ignored unless TRUST_PROXY names the proxy: a client cannot dodge the limit', async () => {
    const { app } = bridgeFor(fake, { env: { RATE_LIMIT_EXCHANGE_PER_MINUTE: '2' } });
    for (let i = 0; i < 2; i++) {
      await request(app).post('/v1/token/google').set('X-Forwarded-For', `203.0.113.${i}`).send({ idToken: 'junk' }).expect(401);
    }
    await request(app).post('/v1/token/google').set('X-Forwarded-For', '203.0.113.99').send({ idToken: 'junk' }).expect(429);
  });

  it('with TRUST_PROXY=loopback, each forwarded client has its own budget; spoofed hops before the proxy do not count', async () => {
    const { app } = bridgeFor(fake, { env: { RATE_LIMIT_EXCHANGE_PER_MINUTE: '1', TRUST_PROXY: 'loopback' } });
    await request(app).post('/v1/token/google').set('X-Forwarded-For', '198.51.100.1').send({ idToken: 'junk' }).expect(401);
    await request(app).post('/v1/token/google').set('X-Forwarded-For', '198.51.100.1').send({ idToken: 'junk' }).expect(429);
    await request(app).post('/v1/token/google').set('X-Forwarded-For', '198.51.100.2').send({ idToken: 'junk' }).expect(401);
    // The client prepends a fake address; the proxy appends the real one, which is what counts.
    await request(app)
      .post('/v1/token/google')
      .set('X-Forwarded-For', '10.9.9.9, 198.51.100.1')
      .send({ idToken: 'junk' })
      .expect(429);
  });

  it('TRUST_PROXY is validated', () => {
    const { loadConfig } = jest.requireActual('../../src/config') as typeof import('../../src/config');
    expect(() => loadConfig({ FIREBASE_PROJECT_ID: 'my-app-12345', GOOGLE_CLIENT_IDS: 'a', TRUST_PROXY: 'everyone' })).toThrow(/TRUST_PROXY/);
    expect(() => loadConfig({ FIREBASE_PROJECT_ID: 'my-app-12345', GOOGLE_CLIENT_IDS: 'a', TRUST_PROXY: '10.0.0.0/33' })).toThrow(/TRUST_PROXY/);
    expect(loadConfig({ FIREBASE_PROJECT_ID: 'my-app-12345', GOOGLE_CLIENT_IDS: 'a', TRUST_PROXY: '10.0.0.0/8,::1,loopback' }).hardening.trustProxy).toEqual([
      '10.0.0.0/8',
      '::1',
      'loopback',
    ]);
  });

  it('clientKey: IPv4-mapped addresses unwrap; IPv6 clients are limited per /64', () => {
    expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey(undefined)).toBe('unknown');
  });
});
