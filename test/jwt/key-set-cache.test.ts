import type { KeyObject } from 'node:crypto';
import { InvalidTokenError, KeysUnavailableError } from '../../src/errors';
import { KeySetCache, type KeySetCacheOptions } from '../../src/jwt/key-set-cache';
import { KeySetFormatError } from '../../src/errors';
import { createLogger } from '../../src/logger';
import { LogCapture, manualClock } from '../../testkit/harness';
import { ScriptedSource, deferred, fakeKey, flush, keySet, randomKid } from '../../testkit/key-set-helpers';

const COOLDOWN = 10_000;
const MAX_STALE = 6 * 3_600_000;
const MAX_AGE = 60_000;

function setup(source: ScriptedSource, overrides: Partial<KeySetCacheOptions> = {}) {
  const clock = manualClock(1_700_000_000_000);
  const logs = new LogCapture();
  const cache = new KeySetCache({
    source,
    logger: createLogger('debug', logs),
    clock,
    cooldownMs: COOLDOWN,
    maxStaleMs: MAX_STALE,
    ...overrides,
  });
  return { cache, clock, logs };
}

async function expectUnknownKid(p: Promise<KeyObject>): Promise<void> {
  await expect(p).rejects.toBeInstanceOf(InvalidTokenError);
  await expect(p).rejects.toMatchObject({ code: 'ERR_KID_UNKNOWN', status: 401 });
}

async function expectUnavailable(p: Promise<KeyObject>): Promise<void> {
  await expect(p).rejects.toBeInstanceOf(KeysUnavailableError);
  await expect(p).rejects.toMatchObject({ status: 503, oauthError: 'temporarily_unavailable' });
}

describe('KeySetCache with a scripted source', () => {
  const a = fakeKey();
  const b = fakeKey();

  describe('freshness', () => {
    it('a known kid never triggers a fetch while the keys are fresh, and the same imported key is returned each time', async () => {
      const source = new ScriptedSource(keySet({ a }, MAX_AGE));
      const { cache, clock } = setup(source);
      for (let i = 0; i < 100; i++) {
        expect(await cache.getKey('a')).toBe(a);
        clock.advance(500); // 100 × 500 ms = 50 s < max-age
      }
      expect(source.loads).toBe(1);
      clock.advance(MAX_AGE - 50_000 - 1);
      expect(await cache.getKey('a')).toBe(a);
      expect(source.loads).toBe(1);
      clock.advance(1); // now exactly at freshUntil: expired
      expect(await cache.getKey('a')).toBe(a);
      expect(source.loads).toBe(2);
      expect(cache.stats()).toMatchObject({ fetches: 2, failures: 0, keys: 1, stale: false });
    });

    it('a known kid is answered at once while an unknown-kid refetch is still under way', async () => {
      const source = new ScriptedSource(keySet({ a }, MAX_AGE));
      const { cache, clock } = setup(source);
      await cache.warm();
      clock.advance(COOLDOWN);
      const slow = deferred<ReturnType<typeof keySet>>();
      source.next = slow;
      const unknown = cache.getKey('b');
      await flush();
      expect(source.loads).toBe(2);
      // The known kid neither joins nor starts a fetch.
      await expect(cache.getKey('a')).resolves.toBe(a);
      expect(source.loads).toBe(2);
      slow.resolve(keySet({ a, b }, MAX_AGE));
      await expect(unknown).resolves.toBe(b);
    });

    it('max-age 0 is clamped to minTtl (30 s by default): it does not refetch on every call', async () => {
      const source = new ScriptedSource(keySet({ a }, 0));
      const { cache, clock } = setup(source);
      for (let i = 0; i < 30; i++) {
        await cache.getKey('a');
        clock.advance(999); // 30 × 999 ms < 30 s
      }
      expect(source.loads).toBe(1);
      clock.advance(30_000);
      await cache.getKey('a');
      expect(source.loads).toBe(2);
    });

    it('honours a configured minTtlMs', async () => {
      const source = new ScriptedSource(keySet({ a }, 0));
      const { cache, clock } = setup(source, { minTtlMs: 5_000 });
      await cache.getKey('a');
      clock.advance(4_999);
      await cache.getKey('a');
      expect(source.loads).toBe(1);
      clock.advance(1);
      await cache.getKey('a');
      expect(source.loads).toBe(2);
    });

    it('an announced lifetime beyond maxTtl (24 h by default) is clamped', async () => {
      const source = new ScriptedSource(keySet({ a }, 30 * 86_400_000));
      const { cache, clock } = setup(source);
      await cache.getKey('a');
      clock.advance(24 * 3_600_000 - 1);
      await cache.getKey('a');
      expect(source.loads).toBe(1);
      clock.advance(1);
      await cache.getKey('a');
      expect(source.loads).toBe(2);
    });

    it('without an announced max-age the default lifetime (10 min) applies', async () => {
      const source = new ScriptedSource(keySet({ a }));
      const { cache, clock } = setup(source);
      await cache.getKey('a');
      clock.advance(10 * 60_000 - 1);
      await cache.getKey('a');
      expect(source.loads).toBe(1);
      clock.advance(1);
      await cache.getKey('a');
      expect(source.loads).toBe(2);
    });
  });

  describe('single flight', () => {
    it('concurrent callers on a cold cache share one load', async () => {
      const load = deferred<ReturnType<typeof keySet>>();
      const source = new ScriptedSource(load);
      const { cache } = setup(source);
      const calls = Array.from({ length: 25 }, (_, i) => cache.getKey(i % 2 === 0 ? 'a' : 'b'));
      await flush();
      expect(source.loads).toBe(1);
      load.resolve(keySet({ a, b }, MAX_AGE));
      const keys = await Promise.all(calls);
      keys.forEach((key, i) => expect(key).toBe(i % 2 === 0 ? a : b));
      expect(source.loads).toBe(1);
    });

    it('concurrent callers with the same unknown kid share one refetch (after the cooldown)', async () => {
      const source = new ScriptedSource(keySet({ a }, MAX_AGE));
      const { cache, clock } = setup(source);
      await cache.warm();
      clock.advance(COOLDOWN);
      const rotated = deferred<ReturnType<typeof keySet>>();
      source.next = rotated;
      const calls = Array.from({ length: 30 }, () => cache.getKey('b'));
      await flush();
      expect(source.loads).toBe(2);
      rotated.resolve(keySet({ a, b }, MAX_AGE));
      for (const key of await Promise.all(calls)) expect(key).toBe(b);
      expect(source.loads).toBe(2);
    });

    it('a failing shared load fails every waiting caller once, with one load', async () => {
      const load = deferred<ReturnType<typeof keySet>>();
      const source = new ScriptedSource(load);
      const { cache } = setup(source);
      const calls = Array.from({ length: 10 }, () => cache.getKey('a'));
      await flush();
      load.reject(new Error('boom'));
      const results = await Promise.allSettled(calls);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(KeysUnavailableError);
      }
      expect(source.loads).toBe(1);
    });
  });

  describe('cooldown', () => {
    it('a flood of unknown kids right after the first fetch causes no extra fetch (≤ 2 in all)', async () => {
      const source = new ScriptedSource(keySet({ a }, MAX_AGE));
      const { cache } = setup(source);
      await Promise.all(Array.from({ length: 200 }, () => expectUnknownKid(cache.getKey(randomKid()))));
      expect(source.loads).toBeLessThanOrEqual(2);
    });

    it('unknown kids refetch at most once per cooldown', async () => {
      const source = new ScriptedSource(keySet({ a }, MAX_AGE));
      const { cache, clock } = setup(source);
      await cache.warm();
      clock.advance(COOLDOWN);
      await Promise.all(Array.from({ length: 200 }, () => expectUnknownKid(cache.getKey(randomKid()))));
      expect(source.loads).toBe(2);
      // Sequential ones within the cooldown do not fetch either.
      for (let i = 0; i < 20; i++) await expectUnknownKid(cache.getKey(randomKid()));
      clock.advance(COOLDOWN - 1);
      await expectUnknownKid(cache.getKey(randomKid()));
      expect(source.loads).toBe(2);
      clock.advance(1);
      await expectUnknownKid(cache.getKey(randomKid()));
      expect(source.loads).toBe(3);
      await expectUnknownKid(cache.getKey(randomKid()));
      expect(source.loads).toBe(3);
      // Known kids still work throughout.
      expect(await cache.getKey('a')).toBe(a);
      expect(source.loads).toBe(3);
    });

    it('a failed refresh of expired keys starts a cooldown: repeated calls do not each fetch', async () => {
      const source = new ScriptedSource(keySet({ a }, MAX_AGE));
      const { cache, clock, logs } = setup(source);
      await cache.warm();
      clock.advance(MAX_AGE);
      source.next = new Error('HTTP 503');
      for (let i = 0; i < 50; i++) expect(await cache.getKey('a')).toBe(a);
      await Promise.all(Array.from({ length: 50 }, async () => expect(await cache.getKey('a')).toBe(a)));
      expect(source.loads).toBe(2);
      clock.advance(COOLDOWN - 1);
      expect(await cache.getKey('a')).toBe(a);
      expect(source.loads).toBe(2);
      clock.advance(1);
      expect(await cache.getKey('a')).toBe(a);
      expect(source.loads).toBe(3);
      expect(cache.stats()).toMatchObject({ fetches: 3, failures: 2, stale: true });
      const failures = logs.entries().filter((e) => e.msg === 'key set refresh failed');
      expect(failures).toHaveLength(2);
      expect(failures[0]).toMatchObject({ level: 40, source: 'scripted-test-source', err: 'HTTP 503', servingStale: true });
    });

    it('cold start with a failing source: unavailable, no retry within the cooldown, recovery after it', async () => {
      const source = new ScriptedSource(new Error('connect ECONNREFUSED'));
      const { cache, clock } = setup(source);
      await expectUnavailable(cache.getKey('a'));
      for (let i = 0; i < 20; i++) await expectUnavailable(cache.getKey('a'));
      expect(source.loads).toBe(1);
      source.next = keySet({ a }, MAX_AGE);
      clock.advance(COOLDOWN - 1);
      await expectUnavailable(cache.getKey('a'));
      expect(source.loads).toBe(1);
      clock.advance(1);
      expect(await cache.getKey('a')).toBe(a);
      expect(source.loads).toBe(2);
    });
  });

  describe('stale-if-error', () => {
    it.each([
      ['a failed fetch', new Error('HTTP 500')],
      ['a garbage key set', new KeySetFormatError('response is not JSON')],
    ])('after %s the last good keys serve until freshUntil + maxStale, then KeysUnavailableError', async (_name, error) => {
      const maxStaleMs = 120_000;
      const source = new ScriptedSource(keySet({ a }, MAX_AGE));
      const { cache, clock, logs } = setup(source, { maxStaleMs });
      const t0 = clock();
      await cache.warm();
      source.next = error;
      clock.set(t0 + MAX_AGE); // expired
      expect(await cache.getKey('a')).toBe(a);
      expect(cache.hasUsableKeys()).toBe(true);
      expect(logs.text).toContain('key set refresh failed');
      clock.set(t0 + MAX_AGE + maxStaleMs - 1); // last usable millisecond
      expect(await cache.getKey('a')).toBe(a);
      clock.set(t0 + MAX_AGE + maxStaleMs);
      expect(cache.hasUsableKeys()).toBe(false);
      await expectUnavailable(cache.getKey('a'));
      // Beyond the bound, further calls within the cooldown neither fetch nor serve stale.
      const loads = source.loads;
      for (let i = 0; i < 10; i++) await expectUnavailable(cache.getKey('a'));
      expect(source.loads).toBe(loads);
      // Once the publisher is back and the cooldown passed, keys are served again.
      source.next = keySet({ a }, MAX_AGE);
      clock.advance(COOLDOWN);
      expect(await cache.getKey('a')).toBe(a);
      expect(cache.stats().stale).toBe(false);
    });

    it('an unknown kid against stale keys is refused as invalid_token (not 503) while the stale copy is usable', async () => {
      const source = new ScriptedSource(keySet({ a }, MAX_AGE));
      const { cache, clock } = setup(source);
      await cache.warm();
      source.next = new Error('HTTP 500');
      clock.advance(MAX_AGE);
      await expectUnknownKid(cache.getKey('nope'));
      expect(source.loads).toBe(2);
    });
  });
});
