import request from 'supertest';
import { FakeGoogle } from '../../testkit/fake-google';
import { bridgeFor } from '../../testkit/harness';

describe('GET /v1/me: the same bytes whether verified or served from the cache (the body of a cached user is serialized once)', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it.each([['cache on', {}], ['cache off', { VERIFIED_TOKEN_CACHE_MAX_ENTRIES: '0' }]])('%s: every answer is res.json\'s {uid, claims}', async (_name, env) => {
    const { app } = bridgeFor(fake, { env });
    const token = await fake.firebaseIdToken({ sub: 'ada', user_id: 'ada', email: 'ada@example.com', roles: ['a', 'b'] });
    const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
    const expected = JSON.stringify({ uid: 'ada', claims });
    const answers = [];
    for (let i = 0; i < 4; i += 1) answers.push(await request(app).get('/v1/me').set('Authorization', `Bearer ${token}`).expect(200));
    for (const res of answers) {
      expect(res.text).toBe(expected);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['content-length']).toBe(String(Buffer.byteLength(expected)));
    }
    // Another user's token never gets the first one's body.
    const other = await fake.firebaseIdToken({ sub: 'bob', user_id: 'bob' });
    for (let i = 0; i < 3; i += 1) {
      const res = await request(app).get('/v1/me').set('Authorization', `Bearer ${other}`).expect(200);
      expect((res.body as { uid: string }).uid).toBe('bob');
    }
    const head = await request(app).head('/v1/me').set('Authorization', `Bearer ${token}`).expect(200);
    expect(head.text ?? '').toBe('');
  });
});
