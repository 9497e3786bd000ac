import request from 'supertest';
import { FakeGoogle } from '../../testkit/fake-google';
import { bridgeFor, manualClock } from '../../testkit/harness';

describe('replay protection', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('each Google ID token exchanges once (REPLAY_PROTECTION default on)', async () => {
    const { app } = bridgeFor(fake);
    const idToken = await fake.googleIdToken();
    await request(app).post('/v1/token/google').send({ idToken }).expect(200);
    const again = await request(app).post('/v1/token/google').send({ idToken }).expect(401);
    expect(again.body).toEqual({
      error: 'invalid_token',
      error_description: 'this Google ID token was already exchanged; sign in again for a new one',
    });
  });

  it('concurrent exchanges of one token: exactly one succeeds', async () => {
    const { app } = bridgeFor(fake);
    const idToken = await fake.googleIdToken();
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () => request(app).post('/v1/token/google').send({ idToken }).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(19);
  });

  it('REPLAY_PROTECTION=false allows a token to exchange again', async () => {
    const { app } = bridgeFor(fake, { env: { REPLAY_PROTECTION: 'false' } });
    const idToken = await fake.googleIdToken();
    await request(app).post('/v1/token/google').send({ idToken }).expect(200);
    await request(app).post('/v1/token/google').send({ idToken }).expect(200);
  });

  it('an invalid token does not spend anything; a failed mint releases the mark so the user can retry', async () => {
    const { app, deps } = bridgeFor(fake);
    const idToken = await fake.googleIdToken();
    const mint = jest.spyOn(deps.minter, 'mint').mockRejectedValueOnce(new Error('signer hiccup'));
    await request(app).post('/v1/token/google').send({ idToken }).expect(500);
    mint.mockRestore();
    await request(app).post('/v1/token/google').send({ idToken }).expect(200);
  });

  it('the mark lasts until the token expires (then the token is refused as expired anyway)', async () => {
    const clock = manualClock();
    const { app, deps } = bridgeFor(fake, { clock });
    const iat = Math.floor(clock() / 1000);
    const idToken = await fake.googleIdToken({ iat, exp: iat + 120 });
    await request(app).post('/v1/token/google').send({ idToken }).expect(200);
    clock.advance(150_000); // within exp + 60 s skew: still marked
    expect((await request(app).post('/v1/token/google').send({ idToken })).body.error_description).toMatch(/already exchanged/);
    clock.advance(60_000);
    const expired = await request(app).post('/v1/token/google').send({ idToken }).expect(401);
    expect(expired.body.error_description).not.toMatch(/already exchanged/);
    expect(deps.store).toBeDefined();
  });
});

describe('server-issued nonces', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('POST /v1/nonce returns a fresh, long, random nonce and its lifetime', async () => {
    const { app } = bridgeFor(fake);
    const a = await request(app).post('/v1/nonce').expect(200);
    const b = await request(app).post('/v1/nonce').expect(200);
    expect(a.body).toEqual({ nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expiresIn: 300 });
    expect(a.body.nonce).not.toBe(b.body.nonce);
    expect(a.headers['cache-control']).toBe('no-store');
  });

  it('REQUIRE_NONCE=true: the token must carry an issued, unused, unexpired nonce', async () => {
    const clock = manualClock();
    const { app } = bridgeFor(fake, { clock, env: { REQUIRE_NONCE: 'true', NONCE_TTL_SECONDS: '60' } });
    const at = () => {
      const iat = Math.floor(clock() / 1000);
      return { iat, exp: iat + 3600 };
    };
    const exchange = async (claims: Record<string, unknown>) =>
      request(app).post('/v1/token/google').send({ idToken: await fake.googleIdToken({ ...at(), ...claims }) });

    const missing = await exchange({});
    expect(missing.status).toBe(401);
    expect(missing.body.error_description).toMatch(/no nonce/);
    expect((await exchange({ nonce: 'made-up-by-the-client' })).status).toBe(401);

    const { nonce } = (await request(app).post('/v1/nonce').expect(200)).body as { nonce: string };
    expect((await exchange({ nonce })).status).toBe(200);
    // Single use: a second token with the same nonce is refused.
    const reused = await exchange({ nonce });
    expect(reused.status).toBe(401);
    expect(reused.body.error_description).toMatch(/unknown, already used or expired/);

    const late = (await request(app).post('/v1/nonce').expect(200)).body.nonce as string;
    clock.advance(61_000);
    expect((await exchange({ nonce: late })).status).toBe(401);
  });

  it('a refused token does not consume the nonce (policy and signature come first)', async () => {
    const { app } = bridgeFor(fake, { env: { REQUIRE_NONCE: 'true', GOOGLE_HOSTED_DOMAINS: 'example.com' } });
    const { nonce } = (await request(app).post('/v1/nonce')).body as { nonce: string };
    await request(app).post('/v1/token/google').send({ idToken: await fake.googleIdToken({ nonce, hd: 'other.example' }) }).expect(403);
    await request(app).post('/v1/token/google').send({ idToken: await fake.googleIdToken({ nonce, hd: 'example.com' }) }).expect(200);
  });

  it('a failed mint gives the nonce and the replay mark back: the same token can be retried', async () => {
    const { app, deps } = bridgeFor(fake, { env: { REQUIRE_NONCE: 'true' } });
    const { nonce } = (await request(app).post('/v1/nonce')).body as { nonce: string };
    const idToken = await fake.googleIdToken({ nonce });
    const mint = jest.spyOn(deps.minter, 'mint').mockRejectedValueOnce(new Error('signer hiccup'));
    await request(app).post('/v1/token/google').send({ idToken }).expect(500);
    mint.mockRestore();
    await request(app).post('/v1/token/google').send({ idToken }).expect(200);
    // ...and then both are spent.
    expect((await request(app).post('/v1/token/google').send({ idToken })).body.error_description).toMatch(/already exchanged/);
  });

  it('a refused nonce does not burn the token\'s replay mark', async () => {
    const { app } = bridgeFor(fake, { env: { REQUIRE_NONCE: 'true' } });
    const { nonce } = (await request(app).post('/v1/nonce')).body as { nonce: string };
    await request(app).post('/v1/nonce'); // another, unused
    const idToken = await fake.googleIdToken({ nonce });
    // The nonce is consumed by a first token...
    await request(app).post('/v1/token/google').send({ idToken }).expect(200);
    // ...so a second token with it is refused for the nonce, not as a replay; its own mark is released.
    const other = await fake.googleIdToken({ nonce });
    const first = await request(app).post('/v1/token/google').send({ idToken: other }).expect(401);
    expect(first.body.error_description).toMatch(/nonce/);
    const second = await request(app).post('/v1/token/google').send({ idToken: other }).expect(401);
    expect(second.body.error_description).toMatch(/nonce/);
  });

  it('without REQUIRE_NONCE a nonce is not needed', async () => {
    const { app } = bridgeFor(fake);
    await request(app).post('/v1/token/google').send({ idToken: await fake.googleIdToken() }).expect(200);
  });
});
