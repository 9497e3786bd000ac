import Redis, { type RedisOptions } from 'ioredis';
import type { Clock } from '../clock';
import type { ClaimResult, SharedStore } from './store';
import { checkedTtlMs } from './ttl';

/** INCR, then set the window's expiry on its first hit; returns [count, pttl]. One round trip, atomic. */
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
`;

/**
 * The epoch sentinel: read it, or (when Redis lost it: a restart without persistence, FLUSHALL, FLUSHDB) start a
 * new epoch at ARGV[1], now. Atomic, so instances sharing Redis agree on one epoch (the first writer's, as SET NX).
 */
const EPOCH = `
local epoch = redis.call('GET', KEYS[1])
if not tonumber(epoch) then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
end
`;

/** The epoch check and the replay mark in one atomic step (KEYS: sentinel, mark; ARGV: now, ttl, since). */
const CLAIM_SCRIPT = `${EPOCH}
if tonumber(ARGV[3]) < tonumber(epoch) then return 'before-epoch' end
if redis.call('SET', KEYS[2], '1', 'PX', ARGV[2], 'NX') then return 'claimed' end
return 'exists'
`;

const EPOCH_SCRIPT = `${EPOCH}
return epoch
`;

/** SET with a TTL, returning the value replaced (SET ... GET, as one script). */
const SET_VALUE_SCRIPT = `
local previous = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return previous
`;

/** SET NX, else keep the value held; either way renew the TTL and return the value held now. */
const GET_OR_PUT_SCRIPT = `
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return ARGV[1] end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('GET', KEYS[1])
`;

/** INCR, with the TTL set by the first call only. */
const INCREMENT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
`;
/** Where Redis is: REDIS_URL, or Sentinel (REDIS_SENTINELS, REDIS_SENTINEL_NAME; REDIS_URL then gives only auth, db, TLS). */
export interface RedisTarget {
  url?: string;
  sentinels?: ReadonlyArray<{ host: string; port: number }>;
  sentinelName?: string;
}

/**
 * The ioredis options of every connection the bridge opens (commands and the revocation subscriber). ioredis
 * reconnects by itself (retryStrategy: backoff up to 2 s, forever); commands wait at most `commandTimeoutMs`
 * and fail after one retry, so an outage is an error the caller's policy decides, not a hang.
 */
export function redisClientOptions(target: RedisTarget, commandTimeoutMs = 1000): RedisOptions {
  const base: RedisOptions = {
    lazyConnect: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    ...(commandTimeoutMs > 0 ? { commandTimeout: commandTimeoutMs } : {}),
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  };
  if (!target.sentinels || target.sentinels.length === 0) return base;
  const fromUrl: RedisOptions = {};
  if (target.url) {
    const parsed = new URL(target.url);
    if (parsed.username) fromUrl.username = decodeURIComponent(parsed.username);
    if (parsed.password) fromUrl.password = decodeURIComponent(parsed.password);
    const db = parsed.pathname.replace(/^\//, '');
    if (/^\d+$/.test(db)) fromUrl.db = Number(db);
    // TLS to the master Sentinel names (ioredis needs enableTLSForSentinelMode for that); the sentinels
    // themselves are spoken to in plain (ioredis' sentinelTLS is not configured).
    if (parsed.protocol === 'rediss:') Object.assign(fromUrl, { tls: {}, enableTLSForSentinelMode: true });
  }
  return {
    ...base,
    ...fromUrl,
    sentinels: target.sentinels.map(({ host, port }) => ({ host, port })),
    name: target.sentinelName,
    sentinelRetryStrategy: (times) => Math.min(100 * times, 2000),
  };
}

/** A connection to the target (`url` alone: ioredis parses it; with sentinels: through Sentinel). */
export function connectRedis(target: RedisTarget | string, commandTimeoutMs?: number): Redis {
  const spec = typeof target === 'string' ? { url: target } : target;
  const options = redisClientOptions(spec, commandTimeoutMs);
  const redis = options.sentinels || !spec.url ? new Redis(options) : new Redis(spec.url, options);
  // Connection errors surface through the commands; keep the emitter from crashing the process.
  redis.on('error', () => undefined);
  return redis;
}

/** QUIT when connected (pending replies first), else drop the connection and stop reconnecting. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') {
    redis.disconnect(false);
    return;
  }
  await redis.quit().then(
    () => undefined,
    () => redis.disconnect(false),
  );
}

/**
 * Redis backend (REDIS_URL or REDIS_SENTINELS), so several bridge instances share replay marks, nonces and rate
 * limits. Every key starts with the prefix (REDIS_KEY_PREFIX); every command has a timeout, and a Redis outage
 * is an error the caller turns into 503 (the bridge never silently skips replay protection). The connection
 * comes back by itself when Redis does.
 */
export class RedisStore implements SharedStore {
  readonly backend = 'redis' as const;
  private readonly redis: Redis;
  private readonly clock: Clock;
  private readonly epochKey: string;
  /** Commands that failed (timeouts, connection loss, refusals): firebridge_store_errors_total. */
  private errors = 0;
  private readonly failed = (err: unknown): never => {
    this.errors += 1;
    throw err;
  };

  constructor(
    target: RedisTarget | string,
    private readonly prefix = 'firebridge:',
    options: { commandTimeoutMs?: number; clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.epochKey = `${prefix}epoch`;
    this.redis = connectRedis(target, options.commandTimeoutMs);
    // The epoch starts with the bridge (or is the one other instances started); if Redis cannot be reached
    // now, the first claim writes it.
    this.epoch().catch(() => undefined);
  }

  /** When the replay state in Redis began (ms); starts a new epoch now if the sentinel is missing. */
  async epoch(): Promise<number> {
    return Number(await this.counted(this.redis.eval(EPOCH_SCRIPT, 1, this.epochKey, Math.floor(this.clock()))));
  }

  async putIfAbsent(key: string, ttlMs: number): Promise<boolean> {
    const result = await this.counted(this.redis.set(this.prefix + key, '1', 'PX', checkedTtlMs(ttlMs), 'NX'));
    return result === 'OK';
  }

  async claim(key: string, ttlMs: number, sinceMs: number): Promise<ClaimResult> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const args = [Math.floor(this.clock()), ttl, Math.floor(sinceMs)];
    return (await this.counted(this.redis.eval(CLAIM_SCRIPT, 2, this.epochKey, this.prefix + key, ...args))) as ClaimResult;
  }

  async take(key: string): Promise<boolean> {
    return (await this.counted(this.redis.del(this.prefix + key))) === 1;
  }

  async hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }> {
    const [count, ttl] = (await this.counted(this.redis.eval(HIT_SCRIPT, 1, this.prefix + key, checkedTtlMs(windowMs)))) as [number, number];
    return { count, resetMs: ttl };
  }

  async setValue(key: string, value: string, ttlMs: number): Promise<string | undefined> {
    const previous = (await this.counted(this.redis.eval(SET_VALUE_SCRIPT, 1, this.prefix + key, value, checkedTtlMs(ttlMs)))) as string | null;
    return previous ?? undefined;
  }

  async getValue(key: string): Promise<string | undefined> {
    return (await this.counted(this.redis.get(this.prefix + key))) ?? undefined;
  }

  async getOrPutValue(key: string, value: string, ttlMs: number): Promise<string> {
    return (await this.counted(this.redis.eval(GET_OR_PUT_SCRIPT, 1, this.prefix + key, value, checkedTtlMs(ttlMs)))) as string;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    return (await this.counted(this.redis.eval(INCREMENT_SCRIPT, 1, this.prefix + key, checkedTtlMs(ttlMs)))) as number;
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      this.errors += 1;
      return false;
    }
  }

  errorCount(): number {
    return this.errors;
  }

  /** The command's answer; a failure is counted, then rethrown. */
  private counted<T>(command: Promise<T>): Promise<T> {
    return command.catch(this.failed);
  }

  async close(): Promise<void> {
    await closeRedis(this.redis);
  }
}
