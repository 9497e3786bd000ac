import request from 'supertest';
import { rs256Scheduler } from '../../src/jwt/rs256';
import { FakeGoogle } from '../../testkit/fake-google';
import { bridgeFor } from '../../testkit/harness';

/** The app tells the signature scheduler of every request, so checks of requests arriving together may use the pool. */
describe('the HTTP edge notes each request for the RS256 scheduler', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('once per request, whatever the route or answer', async () => {
    const { app } = bridgeFor(fake);
    const noted = jest.spyOn(rs256Scheduler, 'noteRequest');
    try {
      await request(app).get('/healthz').expect(200);
      await request(app).get('/v1/me').set('Authorization', `Bearer ${await fake.firebaseIdToken({ sub: 'u1' })}`).expect(200);
      await request(app).get('/no/such/route').expect(404);
      expect(noted).toHaveBeenCalledTimes(3);
    } finally {
      noted.mockRestore();
    }
  });
});
