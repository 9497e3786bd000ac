import { RevocationChecker, RevocationCheckingVerifier } from '../../src/auth/revocation';
import type { KeyObject } from 'node:crypto';
import pino from 'pino';
import { FirebaseIdTokenVerifier, type FirebaseUser } from '../../src/auth/firebase-id-token-verifier';
import { VerifiedTokenCache } from '../../src/auth/verified-token-cache';
import { InvalidTokenError, KeysUnavailableError } from '../../src/errors';
import { KeySetCache } from '../../src/jwt/key-set-cache';
import type { KeySetSource, LoadedKeySet } from '../../src/jwt/key-set-source';
import { b64u, joseToken, rawRsaToken, tamperPayload } from '../../testkit/jwt-forge';
import { manualClock } from '../../testkit/harness';
import { type TestKey, generateTestKey } from '../../testkit/keys';

const PROJECT = 'fb-test-project';
const ISSUER = `https://securetoken.google.com/${PROJECT}`;
const NOW_MS = 1_750_000_000_000;
const NOW = NOW_MS / 1000;
const SKEW = 60;
const KEY_SET_TTL_MS = 60_000;

/** A key set the test changes at will (Google rotating), counting fetches. */
class MutableSource implements KeySetSource {
  readonly name = 'mutable-test-source';
  loads = 0;
  failing = false;
  constructor(public keys: TestKey[]) {}
  async load(): Promise<LoadedKeySet> {
    this.loads += 1;
    if (this.failing) throw new Error('publisher down');
    return { keys: new Map<string, KeyObject>(this.keys.map((k) => [k.kid, k.publicKey])), maxAgeMs: KEY_SET_TTL_MS };
  }
}

/** The real verifier, counting how often the cache falls through to it. */
class CountingVerifier {
  calls = 0;
  constructor(private readonly inner: FirebaseIdTokenVerifier) {}
  verify(token: string): Promise<FirebaseUser> {
    this.calls += 1;
    return this.inner.verify(token);
  }
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: ISSUER,
    aud: PROJECT,
    auth_time: NOW - 100,
    sub: 'user-1',
    user_id: 'user-1',
    iat: NOW - 10,
    exp: NOW + 3590,
    email: 'ada@example.com',
    firebase: { identities: {}, sign_in_provider: 'custom' },
    ...overrides,
  };
}

async function refusal(promise: Promise<unknown>): Promise<InvalidTokenError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidTokenError);
    return err as InvalidTokenError;
  }
  throw new Error('expected the token to be refused');
}

describe('VerifiedTokenCache', () => {
  let key: TestKey;
  let other: TestKey;
  let attacker: TestKey;
  let clock: ReturnType<typeof manualClock>;
  let source: MutableSource;
  let keys: KeySetCache;
  let inner: CountingVerifier;

  beforeAll(() => {
    key = generateTestKey();
    other = generateTestKey();
    attacker = generateTestKey();
  });

  beforeEach(() => {
    clock = manualClock(NOW_MS);
    source = new MutableSource([key, other]);
    keys = new KeySetCache({ source, logger: pino({ level: 'silent' }), clock, cooldownMs: 10_000, maxStaleMs: 3_600_000 });
    inner = new CountingVerifier(new FirebaseIdTokenVerifier({ keys, projectId: PROJECT, skewSeconds: SKEW, clock }));
  });

  /** First-use admission, so each test sees the mechanics it is about; second use is tested below. */
  function cache(maxEntries = 100, admission: 'first-use' | 'second-use' = 'first-use') {
    return new VerifiedTokenCache({ inner, keys, clock, skewSeconds: SKEW, maxEntries, admission });
  }

  describe('second-use admission (the default)', () => {
    it('a token is cached on its second verification, not its first', async () => {
      const verifier = new VerifiedTokenCache({ inner, keys, clock, skewSeconds: SKEW, maxEntries: 100 });
      const token = await joseToken(claims(), key);
      await verifier.verify(token);
      expect(verifier.stats().entries).toBe(0);
      expect(verifier.peek(token)).toBeUndefined();
      await verifier.verify(token);
      expect(verifier.stats().entries).toBe(1);
      await verifier.verify(token);
      expect(inner.calls).toBe(2);
    });

    it('tokens used once never displace cached ones, however many', async () => {
      const verifier = cache(2, 'second-use');
      const hot = await joseToken(claims({ sub: 'hot' }), key);
      await verifier.verify(hot);
      await verifier.verify(hot);
      for (let i = 0; i < 20; i += 1) await verifier.verify(await joseToken(claims({ sub: `once-${i}` }), key));
      expect(verifier.stats().entries).toBe(1);
      const callsBefore = inner.calls;
      await verifier.verify(hot);
      expect(inner.calls).toBe(callsBefore);
    });

    it('a refused token is never remembered toward admission', async () => {
      const verifier = cache(10, 'second-use');
      const expired = await joseToken(claims({ exp: NOW - 3600, iat: NOW - 7200 }), key);
      await refusal(verifier.verify(expired));
      await refusal(verifier.verify(expired));
      expect(verifier.stats().entries).toBe(0);
    });
  });

  it('verifies a token once and serves repeats from memory', async () => {
    const verifier = cache();
    const token = await joseToken(claims(), key);
    const first = await verifier.verify(token);
    const second = await verifier.verify(token);
    expect(second).toBe(first);
    expect(second.uid).toBe('user-1');
    expect(inner.calls).toBe(1);
    expect(verifier.stats()).toEqual({ entries: 1, hits: 1, misses: 1 });
  });

  describe('peek (the synchronous hit path the middleware tries first)', () => {
    it('answers only for a verified, unexpired token whose kid is still in a fresh key set', async () => {
      const verifier = cache();
      const exp = NOW + 100;
      const token = await joseToken(claims({ exp }), key);
      expect(verifier.peek(token)).toBeUndefined(); // never verified: take the async path
      const user = await verifier.verify(token);
      expect(verifier.peek(token)).toBe(user);
      expect(verifier.peek(`${token.slice(0, -2)}AA`)).toBeUndefined(); // another string, another entry
      clock.set((exp + SKEW) * 1000);
      expect(verifier.peek(token)).toBeUndefined(); // expired
      expect(inner.calls).toBe(1);
    });

    it('steps aside when the key set is past its lifetime (verify() refreshes it) or the kid left it', async () => {
      const verifier = cache();
      const token = await joseToken(claims(), key);
      await verifier.verify(token);
      clock.advance(KEY_SET_TTL_MS);
      expect(verifier.peek(token)).toBeUndefined();
      source.keys = [other];
      expect((await refusal(verifier.verify(token))).code).toBe('ERR_KID_UNKNOWN');
      expect(verifier.peek(token)).toBeUndefined();
    });

    it('is off when the cache is (0 entries)', async () => {
      const verifier = cache(0);
      const token = await joseToken(claims(), key);
      await verifier.verify(token);
      expect(verifier.peek(token)).toBeUndefined();
    });
  });

  it('re-checks exp against the clock on every hit, with the verifier\'s leeway', async () => {
    const verifier = cache();
    const exp = NOW + 100;
    const token = await joseToken(claims({ exp }), key);
    await verifier.verify(token);
    clock.set((exp + SKEW - 1) * 1000); // still inside the leeway: served from memory
    await verifier.verify(token);
    expect(inner.calls).toBe(1);
    clock.set((exp + SKEW) * 1000); // exp + skew <= now: expired, exactly as the verifier says
    const err = await refusal(verifier.verify(token));
    expect(err.code).toBe('ERR_TOKEN_EXPIRED');
    expect(inner.calls).toBe(2);
    expect(verifier.stats().entries).toBe(0);
  });

  it('agrees with the uncached verifier at every second around expiry', async () => {
    const verifier = cache();
    const exp = NOW + 30;
    const token = await joseToken(claims({ exp }), key);
    await verifier.verify(token);
    for (let t = exp + SKEW - 3; t <= exp + SKEW + 3; t += 1) {
      clock.set(t * 1000 + 999);
      const cached = await verifier.verify(token).then(() => 'ok', (e: InvalidTokenError) => e.code);
      const direct = await inner.verify(token).then(() => 'ok', (e: InvalidTokenError) => e.code);
      expect({ t, cached }).toEqual({ t, cached: direct });
    }
  });

  it('drops an entry when its kid leaves the key set (at the key set\'s next refresh)', async () => {
    const verifier = cache();
    const token = await joseToken(claims(), key);
    const survivor = await joseToken(claims({ sub: 'user-2' }), other);
    await verifier.verify(token);
    await verifier.verify(survivor);
    expect(source.loads).toBe(1);
    source.keys = [other]; // Google withdraws `key`
    clock.advance(KEY_SET_TTL_MS); // the key set's lifetime is over: the next request refreshes it
    const err = await refusal(verifier.verify(token));
    expect(err.code).toBe('ERR_KID_UNKNOWN');
    expect(source.loads).toBe(2);
    expect((await verifier.verify(survivor)).uid).toBe('user-2');
    expect(inner.calls).toBe(3); // token, survivor, then token again (refused); survivor's repeat was a hit
    expect(verifier.stats().entries).toBe(1);
  });

  it('does not serve hits once the key set is unusable (503, as without the cache)', async () => {
    const verifier = cache();
    const token = await joseToken(claims(), key);
    await verifier.verify(token);
    source.failing = true;
    clock.advance(KEY_SET_TTL_MS + 3_600_000); // past the lifetime and the stale bound
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(KeysUnavailableError);
  });

  it('evicts the least recently used entry at capacity', async () => {
    const verifier = cache(2);
    const [t1, t2, t3] = await Promise.all(['a', 'b', 'c'].map((sub) => joseToken(claims({ sub }), key)));
    await verifier.verify(t1 as string);
    await verifier.verify(t2 as string);
    await verifier.verify(t1 as string); // t1 is now the most recently used
    expect(inner.calls).toBe(2);
    await verifier.verify(t3 as string); // evicts t2
    expect(verifier.stats().entries).toBe(2);
    await verifier.verify(t1 as string);
    expect(inner.calls).toBe(3);
    await verifier.verify(t2 as string);
    expect(inner.calls).toBe(4);
  });

  it('never serves a different token with the same payload from the cache', async () => {
    const verifier = cache();
    const payload = claims();
    const header = { alg: 'RS256', kid: key.kid, typ: 'JWT' };
    const genuine = rawRsaToken(header, payload, key.privateKey);
    await verifier.verify(genuine);
    // Same header and payload bytes, signed by someone else's key: must be refused.
    const forged = rawRsaToken(header, payload, attacker.privateKey);
    expect(forged.slice(0, forged.lastIndexOf('.'))).toBe(genuine.slice(0, genuine.lastIndexOf('.')));
    expect((await refusal(verifier.verify(forged))).code).toBe('ERR_JWS_SIGNATURE');
    // Same payload, another genuine key and kid: a separate entry, verified on its own.
    const rekeyed = rawRsaToken({ ...header, kid: other.kid }, payload, other.privateKey);
    await verifier.verify(rekeyed);
    expect(inner.calls).toBe(3);
    expect(verifier.stats().entries).toBe(2);
  });

  it('refuses a tampered copy of a cached token', async () => {
    const verifier = cache();
    const token = await joseToken(claims(), key);
    await verifier.verify(token);
    const promoted = tamperPayload(token, (p) => {
      p.sub = 'admin';
    });
    expect((await refusal(verifier.verify(promoted))).code).toBe('ERR_JWS_SIGNATURE');
    const sig = token.slice(token.lastIndexOf('.') + 1);
    const flipped = `${token.slice(0, token.lastIndexOf('.') + 1)}${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    await expect(verifier.verify(flipped)).rejects.toBeInstanceOf(InvalidTokenError);
    const reheadered = `${b64u({ alg: 'RS256', kid: key.kid })}${token.slice(token.indexOf('.'))}`;
    await expect(verifier.verify(reheadered)).rejects.toBeInstanceOf(InvalidTokenError);
    expect(verifier.stats().entries).toBe(1);
  });

  it('never caches a refusal', async () => {
    const verifier = cache();
    const early = await joseToken(claims({ iat: NOW + 600, auth_time: NOW - 100 }), key);
    await refusal(verifier.verify(early));
    clock.set((NOW + 600 - SKEW) * 1000); // now the token is acceptable
    expect((await verifier.verify(early)).uid).toBe('user-1');
    expect(inner.calls).toBe(2);
  });

  it('wrapped by the revocation check (as the server wires it), a hit never skips that check', async () => {
    const disabled = new Set<string>();
    const lookedUp: string[] = [];
    const checker = new RevocationChecker({
      client: {
        lookup: async (uid: string) => {
          lookedUp.push(uid);
          return { exists: true, disabled: disabled.has(uid) };
        },
      },
      clock,
      logger: pino({ level: 'silent' }),
      cacheSeconds: 0,
    });
    const verifier = new RevocationCheckingVerifier(cache(100), checker);
    const token = await joseToken(claims(), key);
    await verifier.verify(token);
    await verifier.verify(token);
    disabled.add('user-1');
    expect((await refusal(verifier.verify(token))).code).toBe('ERR_USER_DISABLED');
    expect(lookedUp).toEqual(['user-1', 'user-1', 'user-1']);
    expect(inner.calls).toBe(1);
  });

  it('shares one verification among concurrent first requests for the same token', async () => {
    const verifier = cache();
    const token = await joseToken(claims(), key);
    const users = await Promise.all(Array.from({ length: 50 }, () => verifier.verify(token)));
    expect(new Set(users.map((u) => u.uid))).toEqual(new Set(['user-1']));
    expect(inner.calls).toBe(1);
  });

  it('hands out frozen users (shared between requests)', async () => {
    const verifier = cache();
    const token = await joseToken(claims(), key);
    const user = await verifier.verify(token);
    expect(Object.isFrozen(user)).toBe(true);
    expect(Object.isFrozen(user.claims)).toBe(true);
    expect(Object.isFrozen(user.claims.firebase)).toBe(true);
  });

  it('freezes every level of the claims: objects in arrays, arrays in objects', async () => {
    const verifier = cache();
    const token = await joseToken(claims({ roles: ['a', { scope: 'b', tags: ['c'] }], nested: { list: [[1, { deep: true }]] } }), key);
    const user = await verifier.verify(token);
    const roles = user.claims.roles as [string, { scope: string; tags: string[] }];
    const nested = user.claims.nested as { list: [[number, { deep: boolean }]] };
    for (const value of [roles, roles[1], roles[1].tags, nested, nested.list, nested.list[0], nested.list[0][1]]) {
      expect(Object.isFrozen(value)).toBe(true);
    }
  });

  it('maxEntries 0 disables it: every call is verified', async () => {
    const verifier = cache(0);
    const token = await joseToken(claims(), key);
    await verifier.verify(token);
    await verifier.verify(token);
    expect(inner.calls).toBe(2);
    expect(verifier.stats().entries).toBe(0);
  });

  it('a token carrying a cached token\'s signature over other bytes is verified in full and refused; the genuine entry keeps serving', async () => {
    const verifier = cache();
    const genuine = await joseToken(claims(), key);
    await verifier.verify(genuine);
    const sig = genuine.slice(genuine.lastIndexOf('.'));
    const forged = `${b64u({ alg: 'RS256', kid: key.kid, typ: 'JWT' })}.${b64u(claims({ sub: 'admin', user_id: 'admin' }))}${sig}`;
    expect(verifier.peek(forged)).toBeUndefined();
    expect((await refusal(verifier.verify(forged))).code).toBe('ERR_JWS_SIGNATURE');
    // Concurrently with the genuine one's re-verification too: neither shares the other's result.
    expect(verifier.peek(genuine)?.uid).toBe('user-1');
    expect(verifier.stats().entries).toBe(1);
    expect(inner.calls).toBe(2);
  });

  it('a hit never writes to the Map (no delete and re-insert): the peek and async paths alike', async () => {
    const verifier = cache();
    const tokens = await Promise.all(['a', 'b', 'c'].map((sub) => joseToken(claims({ sub, user_id: sub }), key)));
    for (const t of tokens) await verifier.verify(t);
    const set = jest.spyOn(Map.prototype, 'set');
    const del = jest.spyOn(Map.prototype, 'delete');
    try {
      for (let i = 0; i < 300; i += 1) {
        const t = tokens[i % 3] as string;
        expect(i % 2 === 0 ? verifier.peek(t)?.uid : (await verifier.verify(t)).uid).toBe(['a', 'b', 'c'][i % 3]);
      }
      expect(set).not.toHaveBeenCalled();
      expect(del).not.toHaveBeenCalled();
    } finally {
      set.mockRestore();
      del.mockRestore();
    }
    expect(inner.calls).toBe(3);
    expect(verifier.stats().hits).toBe(300);
  });

  describe('a full cache (10,000 entries, the default cap) with a few hot tokens', () => {
    // A stand-in verifier (as bench/cache-memory.ts): 20,000 real RSA signatures would make the test slow; the
    // cache's mechanics do not depend on them. Tokens are distinct per index, exp an hour ahead.
    const CAP = 10_000;
    const header = b64u({ alg: 'RS256', kid: 'k1', typ: 'JWT' });
    const fakeToken = (i: number) => `${header}.${b64u({ sub: `u${i}`, exp: NOW + 3600 })}.${b64u(`signature-of-token-${i}-`.padEnd(256, 'x'))}`;
    let calls = 0;
    const stand = {
      async verify(t: string): Promise<FirebaseUser> {
        calls += 1;
        const payload = JSON.parse(Buffer.from(t.split('.')[1] as string, 'base64url').toString('utf8')) as { sub: string; exp: number };
        return { uid: payload.sub, claims: payload, exp: payload.exp };
      },
    };
    const staticKeys = { hasKid: (kid: string) => kid === 'k1', isFresh: () => true, warm: async () => undefined };

    it('stays bounded; hot tokens hit throughout keep their entries while cold ones churn through; evicted ones are verified again', async () => {
      calls = 0;
      const verifier = new VerifiedTokenCache({ inner: stand, keys: staticKeys, clock, skewSeconds: SKEW, maxEntries: CAP, admission: 'first-use' });
      const hot = [0, 1, 2].map(fakeToken);
      for (let i = 0; i < CAP; i += 1) await verifier.verify(fakeToken(i));
      expect(verifier.stats().entries).toBe(CAP);
      expect(calls).toBe(CAP);
      for (const t of hot) expect(verifier.peek(t)).toBeDefined();
      // 20,000 new tokens (two full turns of the hand), the hot ones hit between every few of them.
      for (let i = CAP; i < 3 * CAP; i += 1) {
        await verifier.verify(fakeToken(i));
        if (i % 100 === 0) for (const t of hot) expect(verifier.peek(t)).toBeDefined();
        expect(verifier.stats().entries).toBeLessThanOrEqual(CAP);
      }
      expect(verifier.stats().entries).toBe(CAP);
      expect(calls).toBe(3 * CAP);
      for (const t of hot) expect(verifier.peek(t)?.uid).toMatch(/^u[012]$/);
      // A cold token from the first fill was evicted: verified again.
      await verifier.verify(fakeToken(5000));
      expect(calls).toBe(3 * CAP + 1);
      // Expiry still applies to hot entries in a full cache.
      clock.set((NOW + 3600 + SKEW) * 1000);
      for (const t of hot) expect(verifier.peek(t)).toBeUndefined();
    });

    it('an entry evicted while its hit awaited a key-set refresh, then found unservable, never frees the slot its successor took', async () => {
      let release: () => void = () => undefined;
      let fresh = true;
      const published = new Set(['k1']);
      const keys = {
        hasKid: (kid: string) => published.has(kid),
        isFresh: () => fresh,
        warm: () => new Promise<void>((resolve) => (release = resolve)),
      };
      const verifier = new VerifiedTokenCache({ inner: stand, keys, clock, skewSeconds: SKEW, maxEntries: 1, admission: 'first-use' });
      await verifier.verify(fakeToken(1));
      fresh = false;
      const waiting = verifier.verify(fakeToken(1)); // a hit that first refreshes the stale key set
      fresh = true;
      await verifier.verify(fakeToken(2)); // evicts token 1's entry: token 2 takes its slot
      published.delete('k1');
      published.add('k1-next');
      fresh = false;
      release();
      await expect(waiting).resolves.toBeDefined(); // re-verified by the stand-in (the real one would refuse it)
      fresh = true;
      published.add('k1');
      // Still exactly one entry, in the one slot, however many tokens pass through.
      for (let i = 3; i < 50; i += 1) {
        await verifier.verify(fakeToken(i));
        expect(verifier.stats().entries).toBeLessThanOrEqual(1);
      }
    });

    it('a hit costs the same Map work with 1 entry and with 10,000 (one get, no writes)', async () => {
      const verifier = new VerifiedTokenCache({ inner: stand, keys: staticKeys, clock, skewSeconds: SKEW, maxEntries: CAP, admission: 'first-use' });
      const work = async (): Promise<number[]> => {
        const get = jest.spyOn(Map.prototype, 'get');
        const set = jest.spyOn(Map.prototype, 'set');
        const del = jest.spyOn(Map.prototype, 'delete');
        try {
          for (let i = 0; i < 100; i += 1) verifier.peek(fakeToken(0));
          return [get.mock.calls.length, set.mock.calls.length, del.mock.calls.length];
        } finally {
          get.mockRestore();
          set.mockRestore();
          del.mockRestore();
        }
      };
      await verifier.verify(fakeToken(0));
      const alone = await work();
      for (let i = 1; i < CAP; i += 1) await verifier.verify(fakeToken(i));
      expect(verifier.stats().entries).toBe(CAP);
      expect(await work()).toEqual(alone);
      expect(alone).toEqual([100, 0, 0]);
    });
  });
});
