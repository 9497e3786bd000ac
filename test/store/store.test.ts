import Redis from 'ioredis';
import { MemoryStore } from '../../src/store/memory-store';
import { RedisStore } from '../../src/store/redis-store';
import type { SharedStore } from '../../src/store/store';
import { manualClock } from '../../testkit/harness';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) {
  // eslint-disable-next-line no-console
  console.log('skipped: RedisStore contract tests (REDIS_URL is not set; .ci/run sets it to the local Redis)');
}

type Backend = { name: string; make: () => SharedStore; wait: (ms: number) => Promise<void>; now: () => number };

const clock = manualClock();
const backends: Backend[] = [
  { name: 'MemoryStore', make: () => new MemoryStore(clock), wait: async (ms) => clock.advance(ms), now: clock },
];
/** Prefixes the tests used: their epoch sentinels (which never expire, as in production) are removed after. */
const prefixes: string[] = [];
afterAll(async () => {
  if (!REDIS_URL || prefixes.length === 0) return;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  await redis.del(...prefixes.map((prefix) => `${prefix}epoch`));
  await redis.quit();
});
if (REDIS_URL) {
  backends.push({
    name: 'RedisStore',
    make: () => {
      const prefix = `firebridge-test:${process.pid}:${Date.now()}:`;
      prefixes.push(prefix);
      return new RedisStore(REDIS_URL, prefix);
    },
    wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: Date.now,
  });
}

describe.each(backends)('SharedStore contract: $name', ({ make, wait, now }) => {
  let store: SharedStore;
  beforeEach(() => {
    store = make();
  });
  afterEach(() => store.close());

  it('putIfAbsent stores once; expires after its TTL', async () => {
    expect(await store.putIfAbsent('a', 150)).toBe(true);
    expect(await store.putIfAbsent('a', 150)).toBe(false);
    await wait(250);
    expect(await store.putIfAbsent('a', 150)).toBe(true);
  });

  it('take deletes and says whether the key existed; of concurrent takes exactly one wins', async () => {
    expect(await store.take('n')).toBe(false);
    await store.putIfAbsent('n', 10_000);
    const results = await Promise.all(Array.from({ length: 10 }, () => store.take('n')));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.take('n')).toBe(false);
  });

  it('take of an expired key is false', async () => {
    await store.putIfAbsent('e', 100);
    await wait(200);
    expect(await store.take('e')).toBe(false);
  });

  it('of concurrent putIfAbsent calls exactly one wins', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => store.putIfAbsent('race', 10_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('claim marks once; a key from before the store\'s epoch is refused and stores nothing', async () => {
    expect(await store.claim('c', 10_000, now())).toBe('claimed');
    expect(await store.claim('c', 10_000, now())).toBe('exists');
    // The memory store's epoch is its construction; a new Redis prefix's sentinel is written by the store's start.
    expect(await store.claim('old', 10_000, now() - 60_000)).toBe('before-epoch');
    expect(await store.putIfAbsent('old', 10_000)).toBe(true);
  });

  it('hit counts within a window and resets after it', async () => {
    expect(await store.hit('w', 300)).toMatchObject({ count: 1 });
    expect(await store.hit('w', 300)).toMatchObject({ count: 2 });
    const third = await store.hit('w', 300);
    expect(third.count).toBe(3);
    expect(third.resetMs).toBeGreaterThan(0);
    expect(third.resetMs).toBeLessThanOrEqual(300);
    await wait(400);
    expect(await store.hit('w', 300)).toMatchObject({ count: 1 });
  });

  it('setValue stores and replaces, returning the value it replaced; getValue reads; both expire', async () => {
    expect(await store.getValue('v')).toBeUndefined();
    expect(await store.setValue('v', 'one', 150)).toBeUndefined();
    expect(await store.getValue('v')).toBe('one');
    expect(await store.setValue('v', 'two', 150)).toBe('one');
    expect(await store.getValue('v')).toBe('two');
    await wait(250);
    expect(await store.getValue('v')).toBeUndefined();
    expect(await store.setValue('v', 'three', 150)).toBeUndefined();
  });

  it('concurrent setValue calls each replace a different value: a chain, none lost', async () => {
    await store.setValue('chain', 'start', 10_000);
    const replaced = await Promise.all(Array.from({ length: 10 }, (_, i) => store.setValue('chain', `v${i}`, 10_000)));
    const last = (await store.getValue('chain')) as string;
    // Every value but the last was replaced exactly once, and 'start' was among the replaced.
    expect(new Set(replaced).size).toBe(10);
    expect([...replaced, last].sort()).toEqual(['start', ...Array.from({ length: 10 }, (_, i) => `v${i}`)].sort());
  });

  it('take deletes a value (one of concurrent takes wins)', async () => {
    await store.setValue('tv', 'x', 10_000);
    const results = await Promise.all(Array.from({ length: 5 }, () => store.take('tv')));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.getValue('tv')).toBeUndefined();
  });

  it('getOrPutValue: the first value wins for every caller, its TTL renews, and a new one comes after expiry', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => store.getOrPutValue('s', `c${i}`, 300)));
    expect(new Set(answers).size).toBe(1);
    const first = answers[0] as string;
    await wait(200);
    // Renewed by this call: still there 200 ms later (400 ms after it was stored, past its first TTL).
    expect(await store.getOrPutValue('s', 'late', 300)).toBe(first);
    await wait(200);
    expect(await store.getValue('s')).toBe(first);
    await wait(400);
    expect(await store.getOrPutValue('s', 'fresh', 300)).toBe('fresh');
  });

  it('increment counts from 1, concurrent calls each get their own count, and the first TTL stands', async () => {
    expect(await store.increment('i', 300)).toBe(1);
    const counts = await Promise.all(Array.from({ length: 5 }, () => store.increment('i', 300)));
    expect(counts.sort()).toEqual([2, 3, 4, 5, 6]);
    await wait(200);
    expect(await store.increment('i', 300)).toBe(7);
    await wait(200);
    // The window is the first call's: 400 ms after it, the count starts again.
    expect(await store.increment('i', 300)).toBe(1);
  });

  it('ping answers', async () => {
    expect(await store.ping()).toBe(true);
  });
});

describe('MemoryStore', () => {
  it('sweeps expired keys as it grows, so memory stays bounded', async () => {
    const c = manualClock();
    const store = new MemoryStore(c);
    for (let i = 0; i < 1000; i++) {
      await store.putIfAbsent(`k${i}`, 1000);
      c.advance(10);
    }
    expect(store.size).toBeLessThan(250);
  });
});

(REDIS_URL ? describe : describe.skip)('RedisStore shares state between instances', () => {
  it('a mark set through one instance is seen by another (several bridges behind a load balancer)', async () => {
    const prefix = `firebridge-test-shared:${process.pid}:${Date.now()}:`;
    prefixes.push(prefix);
    const a = new RedisStore(REDIS_URL as string, prefix);
    const b = new RedisStore(REDIS_URL as string, prefix);
    try {
      expect(await a.putIfAbsent('replay:x', 5000)).toBe(true);
      expect(await b.putIfAbsent('replay:x', 5000)).toBe(false);
      await a.hit('rl', 5000);
      expect((await b.hit('rl', 5000)).count).toBe(2);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('an unreachable Redis makes the exchange 503, never a silent skip of replay protection', async () => {
    const { ReplayGuard } = await import('../../src/auth/replay-guard');
    const dead = new RedisStore('redis://127.0.0.1:1', 'x:', { commandTimeoutMs: 300 });
    try {
      const guard = new ReplayGuard(dead, Date.now, 60);
      const now = Math.floor(Date.now() / 1000);
      await expect(guard.claim('token', now + 60, now)).rejects.toMatchObject({ status: 503 });
    } finally {
      await dead.close();
    }
  });
});
