import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { FakeGoogle } from '../../testkit/fake-google';
import { bridgeFor } from '../../testkit/harness';
import { scrape } from '../../testkit/metrics';

/** A forged RS256 JWT: random kid, subject and signature (a different refusal path from a non-JWT). */
function forgedJwt(): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = part({ alg: 'RS256', kid: randomBytes(8).toString('hex'), typ: 'JWT' });
  const payload = part({ sub: randomBytes(8).toString('hex'), email: `${randomBytes(4).toString('hex')}@example.com` });
  return `${header}.${payload}.${randomBytes(256).toString('base64url')}`;
}

describe('label cardinality is bounded by construction', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('many distinct bad tokens and paths add no series once each kind of refusal was seen', async () => {
    const bridge = bridgeFor(fake, { env: { RATE_LIMIT_EXCHANGE_PER_MINUTE: '0' } });
    const round = async (n: number) => {
      for (let i = 0; i < n; i += 1) {
        const junk = randomBytes(12).toString('base64url');
        await request(bridge.app).get('/v1/me').set('Authorization', `Bearer ${junk}`).expect(401);
        await request(bridge.app).get('/v1/me').set('Authorization', `Bearer ${forgedJwt()}`).expect(401);
        await request(bridge.app).post('/v1/token/google').send({ idToken: forgedJwt() }).expect(401);
        await request(bridge.app).post('/v1/token/google').send({ idToken: junk }).expect(401);
        await request(bridge.app).get(`/${junk}/${forgedJwt()}`).expect(404);
        await request(bridge.app).get(`/v1/me/${junk}`).expect(404);
      }
    };
    await scrape(bridge.app); // the scrape's own series, from the next scrape on
    await round(3);
    const first = await scrape(bridge.app);
    await round(60);
    const second = await scrape(bridge.app);

    // The same series (names and label sets); only their values moved.
    const ours = (series: string[]) => series.filter((s) => s.startsWith('firebridge_'));
    expect(ours(second.series())).toEqual(ours(first.series()));
    expect(second.value('firebridge_request_duration_seconds_count', { route: 'unmatched', status_class: '4xx' })).toBe(
      first.value('firebridge_request_duration_seconds_count', { route: 'unmatched', status_class: '4xx' }) + 120,
    );
    // Every reason is an error code (or a fixed word), every route a pattern.
    const reasons = new Set(second.samples.flatMap((s) => (s.labels.reason === undefined ? [] : [s.labels.reason])));
    for (const reason of reasons) expect(reason).toMatch(/^(ERR_[A-Z_]+|none|internal)$/);
    const routes = new Set(second.samples.flatMap((s) => (s.labels.route === undefined ? [] : [s.labels.route])));
    expect([...routes].sort()).toEqual(['/metrics', '/v1/me', '/v1/token/google', 'unmatched']);
    expect(ours(second.series()).length).toBeLessThan(150);
  });
});
