import pino from 'pino';
import request from 'supertest';
import { FirebaseIdTokenVerifier, type FirebaseUser } from '../../src/auth/firebase-id-token-verifier';
import { GoogleIdTokenVerifier } from '../../src/auth/google-id-token-verifier';
import { ReplayGuard } from '../../src/auth/replay-guard';
import { VerifiedTokenCache } from '../../src/auth/verified-token-cache';
import { MAX_TOKEN_LIFETIME_SECONDS } from '../../src/jwt/claims';
import { KeySetCache } from '../../src/jwt/key-set-cache';
import { StaticKeySetSource } from '../../src/jwt/key-set-source';
import { MemoryStore } from '../../src/store/memory-store';
import { RedisStore } from '../../src/store/redis-store';
import type { SharedStore } from '../../src/store/store';
import { MAX_STORE_TTL_MS } from '../../src/store/ttl';
import { expectInvalidToken, joseToken, staticCache } from '../../testkit/jwt-forge';
import { FakeGoogle } from '../../testkit/fake-google';
import { WEB_CLIENT_ID, bridgeFor, manualClock } from '../../testkit/harness';
import { type TestKey, generateTestKey } from '../../testkit/keys';

const REDIS_URL = process.env.REDIS_URL;
const NOW_MS = 1_750_000_000_000;
const NOW = NOW_MS / 1000;
const SKEW = 60;
const PROJECT = 'fb-test-project';

/** A real MemoryStore that remembers the TTL of every putIfAbsent (to see what reaches the store). */
class TtlRecordingStore extends MemoryStore {
  readonly ttls: number[] = [];
  override claim(key: string, ttlMs: number, sinceMs: number): ReturnType<MemoryStore['claim']> {
    this.ttls.push(ttlMs);
    return super.claim(key, ttlMs, sinceMs);
  }
}

describe('token lifetime is bounded (exp - iat at most one hour plus the leeway)', () => {
  let key: TestKey;
  let clock: ReturnType<typeof manualClock>;
  beforeAll(() => {
    key = generateTestKey();
  });
  beforeEach(() => {
    clock = manualClock(NOW_MS);
  });

  const google = () => new GoogleIdTokenVerifier({ keys: staticCache([key], clock), clientIds: [WEB_CLIENT_ID], skewSeconds: SKEW, clock });
  const firebase = () => new FirebaseIdTokenVerifier({ keys: staticCache([key], clock), projectId: PROJECT, skewSeconds: SKEW, clock });
  const googleClaims = (times: Record<string, number>) => ({ iss: 'https://accounts.google.com', aud: WEB_CLIENT_ID, sub: '1101', ...times });
  const firebaseClaims = (times: Record<string, number>) => ({
    iss: `https://securetoken.google.com/${PROJECT}`,
    aud: PROJECT,
    sub: 'google:1101',
    auth_time: NOW - 20,
    ...times,
  });

  it.each<[string, Record<string, number>]>([
    ['exp = 1e308', { iat: NOW - 10, exp: 1e308 }],
    ['exp = Number.MAX_VALUE', { iat: NOW - 10, exp: Number.MAX_VALUE }],
    ['exp a year ahead', { iat: NOW - 10, exp: NOW + 365 * 86_400 }],
    ['exp - iat = 3600 + leeway + 1', { iat: NOW - 10, exp: NOW - 10 + MAX_TOKEN_LIFETIME_SECONDS + SKEW + 1 }],
  ])('a genuinely signed Google ID token with %s is refused', async (_label, times) => {
    const err = await expectInvalidToken(google().verify(await joseToken(googleClaims(times), key)), 'ERR_CLAIM_INVALID');
    expect(err.message).toMatch(/lifetime/);
  });

  it.each<[string, Record<string, number>]>([
    ['exp = 1e308', { iat: NOW - 10, exp: 1e308 }],
    ['exp - iat = 3600 + leeway + 1', { iat: NOW - 10, exp: NOW - 10 + MAX_TOKEN_LIFETIME_SECONDS + SKEW + 1 }],
  ])('a genuinely signed Firebase ID token with %s is refused', async (_label, times) => {
    const err = await expectInvalidToken(firebase().verify(await joseToken(firebaseClaims(times), key)), 'ERR_CLAIM_INVALID');
    expect(err.message).toMatch(/lifetime/);
  });

  it('one hour, and one hour plus the leeway, are still accepted', async () => {
    for (const life of [MAX_TOKEN_LIFETIME_SECONDS, MAX_TOKEN_LIFETIME_SECONDS + SKEW]) {
      const times = { iat: NOW - 10, exp: NOW - 10 + life };
      await expect(google().verify(await joseToken(googleClaims(times), key))).resolves.toMatchObject({ exp: times.exp });
      await expect(firebase().verify(await joseToken(firebaseClaims(times), key))).resolves.toMatchObject({ exp: times.exp });
    }
  });

  it('the verified-token cache never stores such a token: every use is verified (and refused) again', async () => {
    let calls = 0;
    const real = firebase();
    const keys = new KeySetCache({
      source: new StaticKeySetSource('k', new Map([[key.kid, key.publicKey]])),
      logger: pino({ level: 'silent' }),
      clock,
      cooldownMs: 10_000,
      maxStaleMs: 3_600_000,
    });
    const cache = new VerifiedTokenCache({
      inner: { verify: (t: string) => ((calls += 1), real.verify(t)) },
      keys,
      clock,
      skewSeconds: SKEW,
      maxEntries: 10,
      admission: 'first-use',
    });
    const token = await joseToken(firebaseClaims({ iat: NOW - 10, exp: 1e308 }), key);
    await expectInvalidToken(cache.verify(token), 'ERR_CLAIM_INVALID');
    await expectInvalidToken(cache.verify(token), 'ERR_CLAIM_INVALID');
    expect(calls).toBe(2);
    expect(cache.stats().entries).toBe(0);
  });

  it('the verified-token cache serves no entry past the longest token lifetime, whatever exp a custom inner verifier reports', async () => {
    // A library user may wrap their own verifier; the cache bounds what it keeps regardless.
    const user: FirebaseUser = { uid: 'u', claims: {}, exp: 1e308 };
    let calls = 0;
    const keys = new KeySetCache({
      source: new StaticKeySetSource('k', new Map([[key.kid, key.publicKey]])),
      logger: pino({ level: 'silent' }),
      clock,
      cooldownMs: 10_000,
      maxStaleMs: 30 * 86_400_000,
    });
    await keys.warm();
    const cache = new VerifiedTokenCache({
      inner: { verify: async () => ((calls += 1), { ...user }) },
      keys,
      clock,
      skewSeconds: SKEW,
      maxEntries: 10,
      admission: 'first-use',
    });
    const token = await joseToken(firebaseClaims({ iat: NOW - 10, exp: NOW + 3590 }), key);
    await cache.verify(token);
    await cache.verify(token);
    expect(calls).toBe(1); // cached
    // exp is taken as at most now + 3600 + 2 x leeway (as for any token the verifier accepts), served with the leeway.
    clock.advance((MAX_TOKEN_LIFETIME_SECONDS + 3 * SKEW) * 1000);
    expect(cache.peek(token)).toBeUndefined();
    await cache.verify(token);
    expect(calls).toBe(2); // the entry ran out: verified again
  });
});

describe('replay marks never get a non-finite or absurd TTL', () => {
  it.each([1e308, Number.MAX_VALUE, Infinity, Number.NaN, -Infinity])('ReplayGuard.claim with exp %p stores a bounded TTL', async (exp) => {
    const clock = manualClock(NOW_MS);
    const store = new TtlRecordingStore(clock);
    const guard = new ReplayGuard(store, clock, SKEW);
    await guard.claim('token', exp, NOW);
    const [ttl] = store.ttls;
    expect(Number.isFinite(ttl)).toBe(true);
    expect(ttl).toBeGreaterThanOrEqual(1000);
    expect(ttl).toBeLessThanOrEqual((MAX_TOKEN_LIFETIME_SECONDS + 3 * SKEW) * 1000);
    await expect(guard.claim('token', exp, NOW)).rejects.toMatchObject({ code: 'ERR_TOKEN_REPLAYED' });
  });

  it('a normal token keeps its mark until exp + leeway (unchanged)', async () => {
    const clock = manualClock(NOW_MS);
    const store = new TtlRecordingStore(clock);
    await new ReplayGuard(store, clock, SKEW).claim('token', NOW + 3590, NOW);
    expect(store.ttls).toEqual([(3590 + SKEW) * 1000]);
  });

  const stores: Array<[string, () => SharedStore]> = [['MemoryStore', () => new MemoryStore(manualClock())]];
  if (REDIS_URL) stores.push(['RedisStore', () => new RedisStore(REDIS_URL, `firebridge-test-ttl:${process.pid}:${Date.now()}:`)]);

  it.each(stores)('%s refuses a TTL that is not a finite number of at most a day (never a key that never expires)', async (_name, make) => {
    const store = make();
    try {
      for (const ttl of [Infinity, Number.NaN, -1, 0, 1e308, MAX_STORE_TTL_MS + 1]) {
        await expect(store.putIfAbsent('k', ttl)).rejects.toBeInstanceOf(RangeError);
        await expect(store.hit('w', ttl)).rejects.toBeInstanceOf(RangeError);
      }
      expect(await store.putIfAbsent('k', MAX_STORE_TTL_MS)).toBe(true);
    } finally {
      await store.close();
    }
  });

  (REDIS_URL ? it : it.skip)('with Redis, a mark for exp = 1e308 is stored with a bounded PTTL (before: 503)', async () => {
    const prefix = `firebridge-test-ttl:${process.pid}:${Date.now()}:`;
    const store = new RedisStore(REDIS_URL as string, prefix);
    const { default: Redis } = await import('ioredis');
    const raw = new Redis(REDIS_URL as string);
    try {
      await new ReplayGuard(store, Date.now, SKEW).claim('huge-exp-token', 1e308, Math.floor(Date.now() / 1000));
      const keys = await raw.keys(`${prefix}replay:*`);
      expect(keys).toHaveLength(1);
      const pttl = await raw.pttl(keys[0] as string);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual((MAX_TOKEN_LIFETIME_SECONDS + 3 * SKEW) * 1000);
    } finally {
      raw.disconnect();
      await store.close();
    }
  });
});

describe('POST /v1/token/google with a huge exp', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  const backends: Array<[string, Record<string, string>]> = [['memory store', {}]];
  if (REDIS_URL) backends.push(['Redis', { REDIS_URL }]);

  it.each(backends)('a genuinely signed Google ID token with exp = 1e308 is 401 invalid_token (%s)', async (_name, env) => {
    const { app, deps } = bridgeFor(fake, { env });
    try {
      const idToken = await fake.googleIdToken({ exp: 1e308 });
      const res = await request(app).post('/v1/token/google').send({ idToken });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_token', error_description: 'token lifetime ("exp" - "iat") is over one hour' });
    } finally {
      await deps.store.close();
    }
  });
});
