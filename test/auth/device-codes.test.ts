import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import request from 'supertest';
import type { CustomTokenMinter } from '../../src/auth/custom-token-generator';
import { DeviceCodes, deviceCodeMessage, generateCode } from '../../src/auth/device-codes';
import { deviceCodeSettings } from '../../src/config/device';
import { InvalidGrantError, PushFailedError } from '../../src/errors';
import { MemoryStore } from '../../src/store/memory-store';
import { RedisStore } from '../../src/store/redis-store';
import type { SharedStore } from '../../src/store/store';
import { FakeGoogle } from '../../testkit/fake-google';
import { bridgeFor, manualClock } from '../../testkit/harness';
import { RecordingPush } from '../../testkit/recording-push';

/** A minter that records what it was asked for (the real one is exercised over HTTP in test/http/device.test.ts). */
function recordingMinter(): CustomTokenMinter & { minted: Array<{ uid: string; claims: unknown }> } {
  const minted: Array<{ uid: string; claims: unknown }> = [];
  return {
    minted,
    isReady: () => true,
    mint: async (uid, claims) => {
      minted.push({ uid, claims });
      return { customToken: `token-${minted.length}`, expiresIn: 3600, kid: 'k' };
    },
  };
}

/** Every value written to the store, to show what is (and is not) kept. */
function spyStore(inner: SharedStore): SharedStore & { written: string[] } {
  const written: string[] = [];
  return Object.assign(Object.create(inner) as SharedStore, {
    written,
    setValue: (key: string, value: string, ttl: number) => {
      written.push(key, value);
      return inner.setValue(key, value, ttl);
    },
    getOrPutValue: (key: string, value: string, ttl: number) => {
      written.push(key, value);
      return inner.getOrPutValue(key, value, ttl);
    },
  });
}

function fcmToken(): string {
  return `${randomBytes(6).toString('base64url')}:APA91b${randomBytes(90).toString('base64url')}`;
}

describe('DeviceCodes rules', () => {
  const clock = manualClock();
  const settings = (env: Record<string, string> = {}) => deviceCodeSettings(env);

  it('codes are six digits, uniform over 000000-999999 (leading zeros included)', () => {
    const firstDigits = new Array<number>(10).fill(0);
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const code = generateCode();
      expect(code).toMatch(/^[0-9]{6}$/);
      firstDigits[Number(code[0])] = (firstDigits[Number(code[0])] ?? 0) + 1;
    }
    // Each leading digit about 10% (a 100000-999999 range would never start with 0).
    for (const count of firstDigits) expect(Math.abs(count / n - 0.1)).toBeLessThan(0.015);
  });

  it('the store never holds the code or the device token: only an HMAC and a SHA-256', async () => {
    const store = spyStore(new MemoryStore(clock));
    const push = new RecordingPush();
    const codes = new DeviceCodes({ store, push, minter: recordingMinter(), clock, settings: settings() });
    const token = fcmToken();
    await codes.challenge(token);
    const code = push.lastTo(token).data.code as string;
    const everything = store.written.join('\n');
    expect(everything).not.toContain(code);
    expect(everything).not.toContain(token);
    expect(store.written.some((value) => value.includes('"c":'))).toBe(true);
  });

  it('more guesses than allowed at once: the right code among them, after the last allowed, is refused too', async () => {
    const store = new MemoryStore(clock);
    const push = new RecordingPush();
    const codes = new DeviceCodes({ store, push, minter: recordingMinter(), clock, settings: settings({ DEVICE_CODE_MAX_ATTEMPTS: '3' }) });
    const token = fcmToken();
    const { challengeId } = await codes.challenge(token);
    const code = push.lastTo(token).data.code as string;
    const other = ((Number(code) + 1) % 1_000_000).toString().padStart(6, '0');
    // Three wrong guesses and the right code, all read the challenge before any is counted.
    const results = await Promise.allSettled([
      codes.verify(challengeId, other),
      codes.verify(challengeId, other),
      codes.verify(challengeId, other),
      codes.verify(challengeId, code),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(InvalidGrantError);
  });

  it('a failed push leaves no challenge behind, and the PushFailedError keeps its reason', async () => {
    const store = spyStore(new MemoryStore(clock));
    const push = new RecordingPush().failWith('unregistered', undefined, 1);
    const codes = new DeviceCodes({ store, push, minter: recordingMinter(), clock, settings: settings() });
    const error = await codes.challenge(fcmToken()).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PushFailedError);
    expect((error as PushFailedError).reason).toBe('unregistered');
    const challengeKey = store.written.find((value) => value.startsWith('device:ch:')) as string;
    expect(await store.getValue(challengeKey)).toBeUndefined();
  });

  it("a failed push replaces nothing: the device's live code stays usable (no one can cancel it by asking for a code that never arrives)", async () => {
    const store = new MemoryStore(clock);
    const push = new RecordingPush();
    const codes = new DeviceCodes({ store, push, minter: recordingMinter(), clock, settings: settings() });
    const token = fcmToken();
    const first = await codes.challenge(token);
    const code = push.lastTo(token).data.code as string;
    push.failWith('unavailable', undefined, 1);
    await expect(codes.challenge(token)).rejects.toBeInstanceOf(PushFailedError);
    await expect(codes.verify(first.challengeId, code)).resolves.toMatchObject({ uid: expect.stringMatching(/^device:/) });
  });

  it('burning a challenge deletes it before its attempt count: a failed delete never revives it with fresh attempts', async () => {
    const store = new MemoryStore(clock);
    const push = new RecordingPush();
    const codes = new DeviceCodes({ store, push, minter: recordingMinter(), clock, settings: settings({ DEVICE_CODE_MAX_ATTEMPTS: '1' }) });
    const token = fcmToken();
    const { challengeId } = await codes.challenge(token);
    const right = push.lastTo(token).data.code as string;
    const take = store.take.bind(store);
    let failChallengeDelete = true;
    store.take = async (key: string) => {
      if (failChallengeDelete && key.startsWith('device:ch:')) {
        failChallengeDelete = false;
        throw new Error('store down');
      }
      return take(key);
    };
    // The one allowed attempt is wrong: the burn's first delete fails, so the challenge survives...
    await expect(codes.verify(challengeId, right === '000000' ? '111111' : '000000')).rejects.toBeDefined();
    // ...but with its attempts still counted: even the right code is refused now.
    await expect(codes.verify(challengeId, right)).rejects.toBeInstanceOf(InvalidGrantError);
  });

  it('without DEVICE_CODE_SECRET the secret is generated once in the store and shared; with it, only its holders verify', async () => {
    const store = new MemoryStore(clock);
    const push = new RecordingPush();
    const a = new DeviceCodes({ store, push, minter: recordingMinter(), clock, settings: settings() });
    const minter = recordingMinter();
    const b = new DeviceCodes({ store, push, minter, clock, settings: settings() });
    const token = fcmToken();
    const { challengeId } = await a.challenge(token);
    await expect(b.verify(challengeId, push.lastTo(token).data.code as string)).resolves.toMatchObject({ uid: expect.stringMatching(/^device:/) });
    expect(minter.minted[0]?.claims).toEqual({ device_verified: true });

    const secret = randomBytes(32).toString('base64');
    const withSecret = new DeviceCodes({ store, push, minter: recordingMinter(), clock, settings: settings({ DEVICE_CODE_SECRET: secret }) });
    const otherSecret = new DeviceCodes({
      store,
      push,
      minter: recordingMinter(),
      clock,
      settings: settings({ DEVICE_CODE_SECRET: randomBytes(32).toString('base64') }),
    });
    const t2 = fcmToken();
    const second = await withSecret.challenge(t2);
    const code = push.lastTo(t2).data.code as string;
    await expect(otherSecret.verify(second.challengeId, code)).rejects.toBeInstanceOf(InvalidGrantError);
    await expect(withSecret.verify(second.challengeId, code)).resolves.toMatchObject({ customToken: expect.any(String) });
  });

  it('deviceCodeMessage: TTL and APNs expiry follow the lifetime', () => {
    const message = deviceCodeMessage('tok', '012345', 'id', { ttlSeconds: 120, notification: false, title: 't', body: 'b' }, 1_000_000_000_000);
    expect(message).toMatchObject({
      token: 'tok',
      android: { priority: 'high', ttl: '120s' },
      apns: { headers: { 'apns-expiration': String(1_000_000_000 + 120), 'apns-priority': '5' } },
    });
    expect(message).not.toHaveProperty('notification');
  });
});

const REDIS_URL = process.env.REDIS_URL;
/** A Redis database of this test's own (the bridge's prefix is fixed): nothing collides with other suites on db 0. */
const DEVICE_REDIS_URL = REDIS_URL ? `${REDIS_URL.replace(/\/\d*$/, '')}/11` : undefined;

(DEVICE_REDIS_URL ? describe : describe.skip)('two bridges sharing one Redis', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(async () => {
    await fake.close();
    const redis = new Redis(DEVICE_REDIS_URL as string, { maxRetriesPerRequest: 1 });
    const keys = [...(await redis.keys('firebridge:device:*')), ...(await redis.keys('firebridge:rl:device*'))];
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('a challenge issued by one instance is verified by the other, once; the generated secret is shared; nothing readable is stored', async () => {
    const account = fake.createServiceAccount();
    const push = new RecordingPush();
    const env = { DEVICE_SIGN_IN: 'true', REDIS_URL: DEVICE_REDIS_URL as string, RATE_LIMIT_DEVICE_IP_PER_MINUTE: '0' };
    const a = bridgeFor(fake, { account, env, push });
    const b = bridgeFor(fake, { account, env, push });
    try {
      const token = fcmToken();
      const res = await request(a.app).post('/v1/device/challenge').send({ fcmToken: token }).expect(202);
      const code = push.lastTo(token).data.code as string;
      const ok = await request(b.app).post('/v1/device/verify').send({ challengeId: res.body.challengeId, code }).expect(200);
      expect(ok.body.uid).toMatch(/^device:/);
      await request(a.app).post('/v1/device/verify').send({ challengeId: res.body.challengeId, code }).expect(401);

      // Wrong codes counted across instances burn it.
      const t2 = fcmToken();
      const second = await request(a.app).post('/v1/device/challenge').send({ fcmToken: t2 }).expect(202);
      const code2 = push.lastTo(t2).data.code as string;
      const wrong = ((Number(code2) + 1) % 1_000_000).toString().padStart(6, '0');
      for (let i = 0; i < 5; i++) {
        await request(i % 2 === 0 ? a.app : b.app).post('/v1/device/verify').send({ challengeId: second.body.challengeId, code: wrong }).expect(401);
      }
      await request(b.app).post('/v1/device/verify').send({ challengeId: second.body.challengeId, code: code2 }).expect(401);

      // A new challenge on b replaces a's for the same device.
      const t3 = fcmToken();
      const old = await request(a.app).post('/v1/device/challenge').send({ fcmToken: t3 }).expect(202);
      const oldCode = push.lastTo(t3).data.code as string;
      const fresh = await request(b.app).post('/v1/device/challenge').send({ fcmToken: t3 }).expect(202);
      const freshCode = push.lastTo(t3).data.code as string;
      await request(a.app).post('/v1/device/verify').send({ challengeId: old.body.challengeId, code: oldCode }).expect(401);

      const redis = new Redis(DEVICE_REDIS_URL as string, { maxRetriesPerRequest: 1 });
      const keys = await redis.keys('firebridge:device:*');
      const values = await Promise.all(keys.map((key) => redis.get(key)));
      await redis.quit();
      const dump = [...keys, ...values].join('\n');
      expect(dump).not.toContain(freshCode);
      expect(dump).not.toContain(t3);
      await request(a.app).post('/v1/device/verify').send({ challengeId: fresh.body.challengeId, code: freshCode }).expect(200);
    } finally {
      await a.deps.store.close();
      await b.deps.store.close();
    }
  });
});

(REDIS_URL ? describe : describe.skip)('RedisStore-backed rules', () => {
  it('an expired challenge is refused by the clock even before Redis drops it', async () => {
    const prefix = `firebridge-test-device:${process.pid}:${Date.now()}:`;
    const clock = manualClock();
    const store = new RedisStore(REDIS_URL as string, prefix, { clock });
    const push = new RecordingPush();
    const codes = new DeviceCodes({ store, push, minter: recordingMinter(), clock, settings: deviceCodeSettings({ DEVICE_CODE_TTL_SECONDS: '60' }) });
    try {
      const token = fcmToken();
      const { challengeId } = await codes.challenge(token);
      clock.advance(61_000);
      await expect(codes.verify(challengeId, push.lastTo(token).data.code as string)).rejects.toBeInstanceOf(InvalidGrantError);
    } finally {
      const redis = new Redis(REDIS_URL as string, { maxRetriesPerRequest: 1 });
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
      await store.close();
    }
  });
});
