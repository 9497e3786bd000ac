import request from 'supertest';
import { VerifiedTokenCache } from '../../src/auth/verified-token-cache';
import { ConfigError, loadConfig } from '../../src/config';
import { FakeGoogle } from '../../testkit/fake-google';
import { bridgeFor } from '../../testkit/harness';

const base = { FIREBASE_PROJECT_ID: 'my-app-12345', GOOGLE_CLIENT_IDS: '123-abc.apps.googleusercontent.com' };

describe('VERIFIED_TOKEN_CACHE_MAX_ENTRIES', () => {
  it('defaults to 10000 and reads 0..1000000', () => {
    expect(loadConfig(base).verifiedTokenCacheMaxEntries).toBe(10_000);
    expect(loadConfig({ ...base, VERIFIED_TOKEN_CACHE_MAX_ENTRIES: '0' }).verifiedTokenCacheMaxEntries).toBe(0);
    expect(loadConfig({ ...base, VERIFIED_TOKEN_CACHE_MAX_ENTRIES: '1000000' }).verifiedTokenCacheMaxEntries).toBe(1_000_000);
  });

  it.each(['-1', 'many', '1000001', '1.5'])('refuses %s, naming the setting', (value) => {
    expect(() => loadConfig({ ...base, VERIFIED_TOKEN_CACHE_MAX_ENTRIES: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, VERIFIED_TOKEN_CACHE_MAX_ENTRIES: value })).toThrow(/VERIFIED_TOKEN_CACHE_MAX_ENTRIES/);
  });
});

describe('the server wires the cache in front of GET /v1/me', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('repeats of a token are served from the cache from its second use on; 0 turns it off', async () => {
    const token = await fake.firebaseIdToken({ sub: 'cached-user' });
    const on = bridgeFor(fake);
    const off = bridgeFor(fake, { env: { VERIFIED_TOKEN_CACHE_MAX_ENTRIES: '0' } });
    for (const bridge of [on, off]) {
      for (let i = 0; i < 4; i += 1) {
        const res = await request(bridge.app).get('/v1/me').set('Authorization', `Bearer ${token}`).expect(200);
        expect(res.body.uid).toBe('cached-user');
      }
    }
    const stats = (verifier: unknown) => (verifier as VerifiedTokenCache).stats();
    expect(on.deps.verifiedTokenCache).toBeInstanceOf(VerifiedTokenCache);
    // The server's verifier is the cache, behind only the counting of outcomes (metrics).
    expect((on.deps.firebaseVerifier as unknown as { inner: unknown }).inner).toBe(on.deps.verifiedTokenCache);
    // Second-use admission: requests 1 and 2 are verified (the second admits the token), 3 and 4 are hits.
    expect(stats(on.deps.verifiedTokenCache)).toEqual({ entries: 1, hits: 2, misses: 2 });
    expect(stats(off.deps.verifiedTokenCache)).toEqual({ entries: 0, hits: 0, misses: 0 });
  });
});
