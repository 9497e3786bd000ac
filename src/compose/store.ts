import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { Config } from '../config';
import { isProductionNodeEnv } from '../config/node-env';
import { MemoryStore } from '../store/memory-store';
import { RedisRevocationBus } from '../store/redis-revocation-bus';
import { type RedisTarget, RedisStore } from '../store/redis-store';
import type { SharedStore } from '../store/store';

/** Where Redis is (REDIS_URL, or REDIS_SENTINELS and REDIS_SENTINEL_NAME); undefined: no Redis. */
export function redisTarget(config: Config): RedisTarget | undefined {
  const { redisUrl, redisSentinels, redisSentinelName } = config.hardening;
  if (redisSentinels && redisSentinels.length > 0) return { url: redisUrl, sentinels: redisSentinels, sentinelName: redisSentinelName };
  return redisUrl ? { url: redisUrl } : undefined;
}

/** Revocations shared between instances through Redis pub/sub; undefined without Redis (one instance). */
export function createRevocationBus(config: Config): RedisRevocationBus | undefined {
  const target = redisTarget(config);
  return target ? new RedisRevocationBus(target, config.hardening.redisKeyPrefix) : undefined;
}

/**
 * The shared store: Redis when REDIS_URL is set, else memory. In production, replay protection on the memory
 * store is worth a warning: its marks are not seen by other instances, and die with the process (the new
 * epoch then refuses older tokens, but one exchanged within the clock-skew leeway before a restart can
 * exchange once more).
 */
export function createStore(config: Config, clock: Clock, logger: Logger): SharedStore {
  const { hardening } = config;
  const target = redisTarget(config);
  if (target) return new RedisStore(target, hardening.redisKeyPrefix, { clock });
  if (hardening.replayProtection && isProductionNodeEnv(config.nodeEnv)) {
    logger.warn(
      { store: 'memory' },
      'REPLAY_PROTECTION runs on the in-memory store: each instance keeps its own replay marks, so a Google ID ' +
        'token exchanged on one instance can be exchanged again on another, and a restart refuses every token ' +
        'issued before it (users sign in again). Set REDIS_URL when more than one instance runs.',
    );
  }
  return new MemoryStore(clock, { maxEntries: hardening.memoryStoreMaxEntries });
}
