import request from 'supertest';
import { loadConfig } from '../../src/config';
import { MemoryStore } from '../../src/store/memory-store';
import { FakeGoogle } from '../../testkit/fake-google';
import { bridgeFor, configuredEnv, manualClock } from '../../testkit/harness';

const HOUR = 3_600_000;

/** The n-th IPv6 /64 of the documentation prefix, as the rate limiter names it. */
const slash64 = (n: number) => `2001:db8:${(n >> 16).toString(16)}:${(n & 0xffff).toString(16)}::/64`;

describe('MemoryStore cap (MEMORY_STORE_MAX_ENTRIES)', () => {
  it('200,000 nonces from 200,000 IPv6 /64s: the store holds at most the cap (default 100,000)', async () => {
    const clock = manualClock();
    const store = new MemoryStore(clock);
    let refused = 0;
    let largest = 0;
    for (let i = 0; i < 200_000; i++) {
      await store.hit(`rl:nonce:${slash64(i)}`, 60_000).catch(() => undefined);
      await store.putIfAbsent(`nonce:${i}`, 300_000).catch(() => {
        refused += 1;
      });
      largest = Math.max(largest, store.size);
    }
    expect(largest).toBe(100_000);
    // Counters made room for nonces; once only live nonces were left, new ones were refused, none dropped.
    expect(store.size).toBe(100_000);
    expect(refused).toBe(100_000);
    for (let i = 0; i < 100_000; i += 997) expect(await store.take(`nonce:${i}`)).toBe(true);
  });

  it('full of live replay marks: new single-use state is refused with 503, and no mark is ever forgotten', async () => {
    const clock = manualClock();
    const store = new MemoryStore(clock, { maxEntries: 1000 });
    for (let i = 0; i < 1000; i++) expect(await store.claim(`replay:${i}`, HOUR, clock())).toBe('claimed');
    await expect(store.claim('replay:new', HOUR, clock())).rejects.toMatchObject({ status: 503, code: 'ERR_DEPENDENCY_UNAVAILABLE' });
    await expect(store.putIfAbsent('nonce:new', 300_000)).rejects.toMatchObject({ status: 503 });
    await expect(store.hit('rl:x', 60_000)).rejects.toMatchObject({ status: 503 });
    // Every mark is still there: each token stays refused as a replay.
    for (let i = 0; i < 1000; i++) expect(await store.claim(`replay:${i}`, HOUR, clock())).toBe('exists');
    expect(store.size).toBe(1000);
    // Once marks expire, their room is reused.
    clock.advance(HOUR);
    expect(await store.claim('replay:new', HOUR, clock())).toBe('claimed');
    expect(store.size).toBeLessThanOrEqual(1000);
  });

  it('when full, expired entries go first, then rate-limit counters (oldest window first), never a live mark or nonce', async () => {
    const clock = manualClock();
    const store = new MemoryStore(clock, { maxEntries: 100 });
    for (let i = 0; i < 10; i++) await store.putIfAbsent(`nonce:short:${i}`, 1000);
    for (let i = 0; i < 40; i++) await store.claim(`replay:${i}`, HOUR, clock());
    for (let i = 0; i < 50; i++) {
      await store.hit(`rl:${i}`, 60_000);
      clock.advance(10); // so counters end in the order they began
    }
    expect(store.size).toBe(100);
    clock.advance(2000); // the ten short nonces have expired; everything else is live
    for (let i = 0; i < 10; i++) await store.claim(`replay:more:${i}`, HOUR, clock());
    // The expired nonces made the room: the counters are untouched.
    expect((await store.hit('rl:0', 60_000)).count).toBe(2);
    // Now counters go, the oldest first.
    for (let i = 0; i < 10; i++) await store.putIfAbsent(`nonce:live:${i}`, 300_000);
    expect(store.size).toBe(100);
    expect((await store.hit('rl:49', 60_000)).count).toBe(2); // a recent counter kept its count
    expect((await store.hit('rl:1', 60_000)).count).toBe(1); // an old one was evicted (its count starts again)
    for (let i = 0; i < 40; i++) expect(await store.claim(`replay:${i}`, HOUR, clock())).toBe('exists');
    for (let i = 0; i < 10; i++) expect(await store.take(`nonce:live:${i}`)).toBe(true);
  });

  it('values and guarding counts (device challenges, attempt counts) are single-use state: counters go first, they never do', async () => {
    const clock = manualClock();
    const store = new MemoryStore(clock, { maxEntries: 10 });
    for (let i = 0; i < 4; i++) await store.setValue(`device:ch:${i}`, `record-${i}`, 300_000);
    for (let i = 0; i < 4; i++) await store.increment(`device:att:${i}`, 300_000);
    await store.hit('rl:a', 60_000);
    await store.hit('rl:b', 60_000);
    expect(store.size).toBe(10);
    // Room for a new challenge comes from a rate-limit counter, never from a challenge or its count.
    await store.setValue('device:ch:new', 'record-new', 300_000);
    await store.getOrPutValue('device:secret', 'secret', 300_000);
    await expect(store.setValue('device:ch:more', 'x', 300_000)).rejects.toMatchObject({ status: 503 });
    await expect(store.increment('device:att:more', 300_000)).rejects.toMatchObject({ status: 503 });
    for (let i = 0; i < 4; i++) {
      expect(await store.getValue(`device:ch:${i}`)).toBe(`record-${i}`);
      expect(await store.increment(`device:att:${i}`, 300_000)).toBe(2);
    }
    expect(await store.getValue('device:ch:new')).toBe('record-new');
  });

  it('sweeping expired entries is bounded work per call: no full scan on a request', async () => {
    const clock = manualClock();
    const store = new MemoryStore(clock);
    for (let i = 0; i < 50_000; i++) await store.putIfAbsent(`nonce:${i}`, 1000 + (i % 5000));
    clock.advance(10_000); // all expired
    await store.putIfAbsent('nonce:next', 300_000);
    expect(store.size).toBeGreaterThan(50_000 - 100); // one write removed only a few
    expect(store.size).toBeLessThan(50_001);
    // ...but every write of a new key removes some, so expired entries drain as the store is used.
    for (let i = 0; i < 4000; i++) await store.hit(`rl:${i}`, 60_000);
    expect(store.size).toBe(4000 + 1);
  });

});

describe('MemoryStore cap over HTTP', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('200,000 replay marks expiring at once: no step of the sweep removes more than 17 (no scan, at any size); writes drain them all', async () => {
    const clock = manualClock();
    const store = new MemoryStore(clock, { maxEntries: 2_000_000 });
    const N = 200_000;
    for (let i = 0; i < N; i++) await store.claim(`replay:${i}`, HOUR + (i % 1000), clock());
    clock.advance(2 * HOUR); // every mark expired in the same second
    // Work per step, counted rather than timed (robust to a loaded machine): entries removed by one write. Each
    // removal is O(log n) in the expiry heap (18 levels at 200,000, 22 at 3 million), so a step is a few hundred comparisons.
    let most = 0;
    let writes = 0;
    while (store.size > writes) {
      const before = store.size;
      await store.putIfAbsent(`nonce:${writes}`, 300_000);
      writes += 1;
      most = Math.max(most, before + 1 - store.size);
      if (writes > N) break;
    }
    expect(most).toBeLessThanOrEqual(17);
    expect(most).toBeGreaterThanOrEqual(16);
    expect(store.size).toBe(writes); // only the live nonces remain
    expect(writes).toBeLessThanOrEqual(Math.ceil(N / 16) + 1);
    // A replayed mark after its expiry is a new claim (as in Redis), and live ones stay.
    expect(await store.claim('replay:7', HOUR, clock())).toBe('claimed');
    expect(await store.putIfAbsent('nonce:0', 300_000)).toBe(false);
  });

  it('MEMORY_STORE_MAX_ENTRIES: default 100000; a bad value stops the server naming it', () => {
    const env = (extra: Record<string, string> = {}) => configuredEnv(fake, '/tmp', extra);
    expect(loadConfig(env()).hardening.memoryStoreMaxEntries).toBe(100_000);
    expect(loadConfig(env({ MEMORY_STORE_MAX_ENTRIES: '500' })).hardening.memoryStoreMaxEntries).toBe(500);
    for (const bad of ['99', '10000001', 'lots', '-1']) {
      expect(() => loadConfig(env({ MEMORY_STORE_MAX_ENTRIES: bad }))).toThrow(expect.objectContaining({ setting: 'MEMORY_STORE_MAX_ENTRIES' }));
    }
  });

  it('a flood of nonces from many /64s fills the store only to MEMORY_STORE_MAX_ENTRIES, then 503 until they expire', async () => {
    const clock = manualClock();
    const { app, deps } = bridgeFor(fake, { clock, env: { MEMORY_STORE_MAX_ENTRIES: '100', TRUST_PROXY: 'loopback' } });
    const nonce = (n: number) => request(app).post('/v1/nonce').set('X-Forwarded-For', `2001:db8:${n.toString(16)}::1`);
    const statuses: number[] = [];
    for (let n = 0; n < 150; n++) {
      const res = await nonce(n);
      statuses.push(res.status);
      if (res.status === 503) {
        expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
        expect(res.headers['retry-after']).toBeDefined();
      }
      expect((deps.store as MemoryStore).size).toBeLessThanOrEqual(100);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(100);
    expect(statuses.slice(100).every((s) => s === 503)).toBe(true);
    clock.advance(300_001); // NONCE_TTL_SECONDS: the nonces expire and their room is reused
    await nonce(1000).expect(200);
  });

  it('full of live replay marks: a new exchange is 503, and every token exchanged before stays refused as a replay', async () => {
    const { app, deps, logs } = bridgeFor(fake, { env: { MEMORY_STORE_MAX_ENTRIES: '100', RATE_LIMIT_EXCHANGE_PER_MINUTE: '0' } });
    const exchange = (idToken: string) => request(app).post('/v1/token/google').send({ idToken });
    const tokens: string[] = [];
    for (let i = 0; i < 100; i++) {
      const idToken = await fake.googleIdToken();
      tokens.push(idToken);
      await exchange(idToken).expect(200);
    }
    const refused = await exchange(await fake.googleIdToken()).expect(503);
    expect(refused.body.error).toBe('temporarily_unavailable');
    expect(logs.text).toMatch(/the memory store is full of unexpired replay marks and nonces \(MEMORY_STORE_MAX_ENTRIES=100\)/);
    for (const idToken of tokens) {
      expect((await exchange(idToken).expect(401)).body.error_description).toMatch(/already exchanged/);
    }
    expect((deps.store as MemoryStore).size).toBe(100);
  });
});

describe('MemoryStore expiry order (its heap, across storage segments)', () => {
  it('20,000 marks with random lifetimes, half expired: a full store frees exactly the expired ones, never a live one', async () => {
    const clock = manualClock();
    const N = 20_000;
    const store = new MemoryStore(clock, { maxEntries: N });
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const ttls = Array.from({ length: N }, () => 1000 + Math.floor(random() * 100_000));
    for (let i = 0; i < N; i += 1) expect(await store.putIfAbsent(`mark:${i}`, ttls[i] as number)).toBe(true);
    // Some expire now, taken out of the middle of the heap; they are gone, and the others still held.
    for (let i = 0; i < N; i += 7) expect(await store.take(`mark:${i}`)).toBe(true);
    const taken = Math.ceil(N / 7);
    clock.advance(50_000);
    const expired = ttls.filter((ttl, i) => i % 7 !== 0 && ttl <= 50_000).length;
    // Every new mark takes the room of a taken or an expired one; the heap must find each expired one in turn.
    for (let i = 0; i < taken + expired; i += 1) expect(await store.putIfAbsent(`new:${i}`, 200_000)).toBe(true);
    await expect(store.putIfAbsent('one-too-many', 200_000)).rejects.toThrow(/full of unexpired/);
    for (let i = 0; i < N; i += 1) {
      if (i % 7 !== 0 && (ttls[i] as number) > 50_000) expect([i, await store.putIfAbsent(`mark:${i}`, 1000)]).toEqual([i, false]);
    }
  });
});
