import { redisTarget } from '../compose/store';
import type { RedisTarget } from '../store/redis-store';
import { closeRedis, connectRedis } from '../store/redis-store';
import { type DoctorCheck, type Verdict, fail, notApplicable, ok } from './check';

/** How long Redis has to answer PING (a reconnect attempt included). */
export const REDIS_PING_TIMEOUT_MS = 3000;

/** Where Redis is, without a password: host:port, or the sentinels and the master group. */
function describe(target: RedisTarget): string {
  if (target.sentinels && target.sentinels.length > 0) {
    return `Sentinel ${target.sentinels.map((s) => `${s.host}:${s.port}`).join(',')} (master ${target.sentinelName ?? '?'})`;
  }
  try {
    return new URL(target.url ?? '').host;
  } catch {
    return 'REDIS_URL';
  }
}

/** Redis answers PING, with the server's connection options (one connection, closed after). */
export const redisCheck: DoctorCheck = {
  id: 'redis',
  name: 'Redis',
  async run({ config }): Promise<Verdict> {
    const target = redisTarget(config);
    if (!target) return notApplicable('not configured (no REDIS_URL): each instance keeps its own state in memory');
    const where = describe(target);
    // The server's own connection options (its command timeout included).
    const redis = connectRedis(target);
    let timer: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), REDIS_PING_TIMEOUT_MS);
      });
      const answer = await Promise.race([redis.ping().catch(() => 'failed'), deadline]);
      if (answer === 'PONG') return ok(`${where} answers PING`);
      return fail(`${where} does not answer PING (${answer === 'timeout' ? `no answer within ${REDIS_PING_TIMEOUT_MS} ms` : 'connection or command failed'})`, 'check REDIS_URL / REDIS_SENTINELS, that Redis runs, and its password and TLS settings');
    } finally {
      clearTimeout(timer);
      await closeRedis(redis);
    }
  },
};
