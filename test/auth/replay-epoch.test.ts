import Redis from 'ioredis';
import request from 'supertest';
import { ReplayGuard } from '../../src/auth/replay-guard';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createStore } from '../../src/compose/store';
import { MemoryStore } from '../../src/store/memory-store';
import { RedisStore } from '../../src/store/redis-store';
import { FakeGoogle } from '../../testkit/fake-google';
import { LogCapture, bridgeFor, configuredEnv, manualClock } from '../../testkit/harness';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) {
  // eslint-disable-next-line no-console
  console.log('skipped: replay epoch tests against Redis (REDIS_URL is not set; .ci/run sets it to the local Redis)');
}

/**
 * The Redis tests flush a database while the bridge runs. FLUSHALL would wipe every database of a Redis that
 * other tests (and developers) share, so they use a database of their own and FLUSHDB it: for the store, the
 * same loss of every key as a FLUSHALL or a restart without persistence.
 */
const FLUSH_DB = 15;
function flushDbUrl(url: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${FLUSH_DB}`;
  return parsed.toString();
}

const SINCE_EPOCH = /issued before the bridge's replay protection last restarted; sign in again/;

describe('replay epoch: the memory store (a new store instance is a restart)', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('after a restart, a token exchanged before it is refused ("sign in again"); one issued within the leeway of the start exchanges', async () => {
    const clock = manualClock();
    const exchange = (app: Parameters<typeof request>[0], idToken: string) => request(app).post('/v1/token/google').send({ idToken });
    const issuedAt = (secondsAgo: number) => {
      const iat = Math.floor(clock() / 1000) - secondsAgo;
      return fake.googleIdToken({ iat, exp: iat + 3600 });
    };

    const before = bridgeFor(fake, { clock });
    const exchanged = await issuedAt(0);
    await exchange(before.app, exchanged).expect(200);
    await exchange(before.app, exchanged).expect(401);

    clock.advance(120_000); // two minutes later (well within MAX_GOOGLE_TOKEN_AGE_SECONDS), the bridge restarts
    const after = bridgeFor(fake, { clock });
    const replayed = await exchange(after.app, exchanged).expect(401);
    expect(replayed.body).toEqual({ error: 'invalid_token', error_description: expect.stringMatching(SINCE_EPOCH) });

    // Issued before the start by more than CLOCK_SKEW_SECONDS (60): refused, though this bridge never saw it.
    expect((await exchange(after.app, await issuedAt(61)).expect(401)).body.error_description).toMatch(SINCE_EPOCH);
    // A sign-in right around the start (Google's clock a little behind ours) works, and only once.
    const justBefore = await issuedAt(59);
    await exchange(after.app, justBefore).expect(200);
    expect((await exchange(after.app, justBefore).expect(401)).body.error_description).toMatch(/already exchanged/);
    await exchange(after.app, await issuedAt(0)).expect(200);
  });

  it('the epoch is checked on every exchange: a refusal stores no mark, and the memory store\'s epoch is its start', async () => {
    const clock = manualClock();
    const store = new MemoryStore(clock);
    const guard = new ReplayGuard(store, clock, 60);
    const start = Math.floor(clock() / 1000);
    clock.advance(600_000);
    await expect(guard.claim('old', start + 3600, start - 61)).rejects.toMatchObject({ code: 'ERR_TOKEN_BEFORE_EPOCH', status: 401 });
    await expect(guard.claim('old', start + 3600, start - 61)).rejects.toMatchObject({ code: 'ERR_TOKEN_BEFORE_EPOCH' });
    expect(store.size).toBe(0);
    await expect(guard.claim('new', start + 3600, start - 59)).resolves.toBeUndefined();
    await expect(guard.claim('new', start + 3600, start - 59)).rejects.toMatchObject({ code: 'ERR_TOKEN_REPLAYED' });
    expect(store.epochMs).toBe(clock() - 600_000);
  });
});

describe('replay epoch: start-up warning', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  const WARNING = /REPLAY_PROTECTION runs on the in-memory store/;
  const warned = async (env: Record<string, string>): Promise<boolean> => {
    const logs = new LogCapture();
    const config = loadConfig(configuredEnv(fake, '/nonexistent-keys', env));
    const store = createStore(config, Date.now, createLogger('info', logs));
    await store.close();
    return logs.entries().some((e) => e.level === 40 && WARNING.test(String(e.msg)));
  };

  it('warns in production when replay protection runs on the memory store, and only then', async () => {
    expect(await warned({ NODE_ENV: 'production' })).toBe(true);
    expect(await warned({ NODE_ENV: 'PROD' })).toBe(true);
    expect(await warned({ NODE_ENV: 'test' })).toBe(false);
    expect(await warned({ NODE_ENV: 'production', REPLAY_PROTECTION: 'false' })).toBe(false);
    // With Redis (here one that is not there: the store connects lazily and the warning is about the choice).
    expect(await warned({ NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:1' })).toBe(false);
  });

  it('a production bridge logs the warning at start', () => {
    const { logs } = bridgeFor(fake, { env: { NODE_ENV: 'production' } });
    expect(logs.text).toMatch(WARNING);
  });
});

(REDIS_URL ? describe : describe.skip)('replay epoch: Redis', () => {
  const url = flushDbUrl(REDIS_URL ?? 'redis://127.0.0.1:6379/0');
  let admin: Redis;
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    admin = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 2000 });
  });
  afterAll(async () => {
    await admin.flushdb();
    await admin.quit();
    await fake.close();
  });
  beforeEach(async () => {
    await admin.flushdb();
  });

  it('a FLUSHDB while the bridge runs starts a new epoch: a token exchanged before it is refused, a new sign-in works', async () => {
    const clock = manualClock();
    const { app, deps } = bridgeFor(fake, { clock, env: { REDIS_URL: url } });
    const exchange = (idToken: string) => request(app).post('/v1/token/google').send({ idToken });
    const issuedAt = (secondsAgo: number) => {
      const iat = Math.floor(clock() / 1000) - secondsAgo;
      return fake.googleIdToken({ iat, exp: iat + 3600 });
    };
    try {
      const exchanged = await issuedAt(0);
      await exchange(exchanged).expect(200);
      expect((await exchange(exchanged).expect(401)).body.error_description).toMatch(/already exchanged/);
      const beforeFlush = await issuedAt(0); // issued, not yet exchanged

      clock.advance(120_000);
      expect(await admin.flushdb()).toBe('OK'); // every mark is gone, and so is the epoch sentinel
      const replayed = await exchange(exchanged).expect(401);
      expect(replayed.body).toEqual({ error: 'invalid_token', error_description: expect.stringMatching(SINCE_EPOCH) });
      // The new epoch is persistent: asked again, still refused (not "claimed" on the second try).
      expect((await exchange(exchanged).expect(401)).body.error_description).toMatch(SINCE_EPOCH);
      expect((await exchange(beforeFlush).expect(401)).body.error_description).toMatch(SINCE_EPOCH);
      // Sign-ins after the flush work, once each.
      const fresh = await issuedAt(0);
      await exchange(fresh).expect(200);
      expect((await exchange(fresh).expect(401)).body.error_description).toMatch(/already exchanged/);
      expect(Number(await admin.get('firebridge:epoch'))).toBe(clock());
    } finally {
      await deps.store.close();
    }
  });

  it('the sentinel is written at start; a bridge restart with Redis keeps the epoch (and every mark)', async () => {
    const clock = manualClock();
    const prefix = `firebridge-epoch-test:${process.pid}:`;
    const first = new RedisStore(url, prefix, { clock });
    const started = clock();
    const guard = new ReplayGuard(first, clock, 60);
    const iat = Math.floor(clock() / 1000);
    try {
      expect(await first.epoch()).toBe(started);
      expect(Number(await admin.get(`${prefix}epoch`))).toBe(started);
      await guard.claim('exchanged', iat + 3600, iat);
    } finally {
      await first.close();
    }
    clock.advance(300_000);
    const second = new RedisStore(url, prefix, { clock });
    const again = new ReplayGuard(second, clock, 60);
    try {
      expect(await second.epoch()).toBe(started);
      await expect(again.claim('exchanged', iat + 3600, iat)).rejects.toMatchObject({ code: 'ERR_TOKEN_REPLAYED' });
      // Issued before the restart but after the epoch: Redis kept everything, so it exchanges.
      await expect(again.claim('issued-before-the-restart', iat + 3600, iat)).resolves.toBeUndefined();
    } finally {
      await second.close();
    }
  });

  it('instances sharing Redis agree on one epoch, also when a flush makes them start a new one', async () => {
    const prefix = `firebridge-epoch-test-shared:${process.pid}:`;
    const base = Date.now();
    const clockA = manualClock(base);
    const clockB = manualClock(base + 5000); // a second instance whose clock runs 5 s ahead
    const a = new RedisStore(url, prefix, { clock: clockA });
    try {
      expect(await a.epoch()).toBe(base);
      const b = new RedisStore(url, prefix, { clock: clockB });
      try {
        expect(await b.epoch()).toBe(base); // SET NX: the first writer's epoch
        clockA.advance(60_000);
        clockB.advance(60_000);
        await admin.flushdb();
        const [ea, eb] = await Promise.all([a.epoch(), b.epoch()]);
        expect(ea).toBe(eb);
        expect([base + 60_000, base + 65_000]).toContain(ea);
        // A claim through either instance is judged against that one epoch.
        expect(await b.claim('replay:x', 10_000, ea - 1)).toBe('before-epoch');
        expect(await a.claim('replay:x', 10_000, ea)).toBe('claimed');
        expect(await b.claim('replay:x', 10_000, ea)).toBe('exists');
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
    }
  });
});
