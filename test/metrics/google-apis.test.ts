import request from 'supertest';
import { FakeGoogle, type TestServiceAccount } from '../../testkit/fake-google';
import { FakeIam } from '../../testkit/fake-iam';
import { FakeIdentityToolkit } from '../../testkit/fake-identity-toolkit';
import { bridgeFor, manualClock } from '../../testkit/harness';
import { scrape } from '../../testkit/metrics';
import { type IdentityToolkitFakes, startIdentityToolkitFakes } from '../../testkit/identity-toolkit-fakes';

describe('Google API calls and their circuit in the metrics (CHECK_REVOKED against a failing Identity Toolkit)', () => {
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

  it('counts calls by outcome, shows the circuit open, and the refusals it causes as verification errors', async () => {
    const clock = manualClock();
    const { app } = bridgeFor(fake, {
      account,
      clock,
      env: { CHECK_REVOKED: 'true', REVOCATION_CACHE_SECONDS: '0', IDENTITY_TOOLKIT_URL: toolkit.url, GOOGLE_TOKEN_URL: iam.tokenUrl },
    });
    const now = Math.floor(clock() / 1000);
    const token = await fake.firebaseIdToken({ sub: 'u1', user_id: 'u1', iat: now, exp: now + 3600, auth_time: now - 10 });
    toolkit.users.set('u1', {});
    await request(app).get('/v1/me').set('Authorization', `Bearer ${token}`).expect(200);
    let s = await scrape(app);
    expect(s.value('firebridge_google_api_calls_total', { api: 'identitytoolkit', outcome: 'success' })).toBe(1);
    expect(s.value('firebridge_circuit_open', { api: 'identitytoolkit' })).toBe(0);

    // Identity Toolkit answers 503 until the circuit opens (5 consecutive failed attempts, retries included).
    toolkit.failWith = 503;
    for (let i = 0; i < 4; i += 1) await request(app).get('/v1/me').set('Authorization', `Bearer ${token}`).expect(503);
    s = await scrape(app);
    expect(s.value('firebridge_circuit_open', { api: 'identitytoolkit' })).toBe(1);
    expect(s.value('firebridge_google_api_calls_total', { api: 'identitytoolkit', outcome: 'failure' })).toBe(4);
    expect(s.value('firebridge_verifications_total', { token: 'firebase', outcome: 'error', reason: 'ERR_DEPENDENCY_UNAVAILABLE' })).toBe(4);

    // Past the open period, a trial call succeeds: the circuit closes.
    toolkit.failWith = undefined;
    clock.advance(11_000);
    await request(app).get('/v1/me').set('Authorization', `Bearer ${token}`).expect(200);
    s = await scrape(app);
    expect(s.value('firebridge_circuit_open', { api: 'identitytoolkit' })).toBe(0);
    expect(s.value('firebridge_google_api_calls_total', { api: 'identitytoolkit', outcome: 'success' })).toBe(2);
  });
});
