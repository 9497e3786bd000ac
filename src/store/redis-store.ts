import Redis from 'ioredis';
import type { SharedStore } from './store';
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
 * Redis backend (REDIS_URL), so several bridge instances share replay marks, nonces and rate
 * limits. Keys are prefixed; every command has a timeout, and a Redis outage is an error the
 * caller turns into 503 (the bridge never silently skips replay protection).
 */
export class RedisStore implements SharedStore {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly prefix = 'firebridge:',
    options: { commandTimeoutMs?: number } = {},
  ) {
    this.redis = new Redis(url, {
      lazyConnect: false,
      enableOfflineQueue: true,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: options.commandTimeoutMs ?? 1000,
    });
    // Connection errors surface through the commands; keep the emitter from crashing the process.
    this.redis.on('error', () => undefined);
  }

  async putIfAbsent(key: string, ttlMs: number): Promise<boolean> {
    const result = await this.redis.set(this.prefix + key, '1', 'PX', checkedTtlMs(ttlMs), 'NX');
    return result === 'OK';
  }

  async take(key: string): Promise<boolean> {
    return (await this.redis.del(this.prefix + key)) === 1;
  }

  async hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }> {
    const [count, ttl] = (await this.redis.eval(HIT_SCRIPT, 1, this.prefix + key, checkedTtlMs(windowMs))) as [number, number];
    return { count, resetMs: ttl };
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
