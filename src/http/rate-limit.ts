import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { RateLimitedError } from '../errors';
import type { SharedStore } from '../store/store';
import { clientKey } from './client-ip';
import { requestLog } from './request-logger';

export interface RateLimitOptions {
  store: SharedStore;
  /** Names the limited endpoint in the store key and the log. */
  name: string;
  perMinute: number;
  logger: Logger;
}

const WINDOW_MS = 60_000;

/**
 * Per-client-IP fixed-window limit (429 with Retry-After). The IP is express's req.ip, which
 * believes X-Forwarded-For only through the proxies TRUST_PROXY names. If the store fails, the
 * request is let through and the failure logged: limits protect capacity, not correctness.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  const { store, name, perMinute, logger } = options;
  return (req, res, next) => {
    if (perMinute <= 0) {
      next();
      return;
    }
    const client = clientKey(req.ip);
    store.hit(`rl:${name}:${client}`, WINDOW_MS).then(
      ({ count, resetMs }) => {
        const resetSeconds = Math.max(1, Math.ceil(resetMs / 1000));
        res.setHeader('RateLimit-Limit', String(perMinute));
        res.setHeader('RateLimit-Remaining', String(Math.max(0, perMinute - count)));
        res.setHeader('RateLimit-Reset', String(resetSeconds));
        if (count > perMinute) {
          res.setHeader('Retry-After', String(resetSeconds));
          requestLog(res, logger).warn({ limit: name, client }, 'rate limit exceeded');
          next(new RateLimitedError(`too many requests; retry in ${resetSeconds} s`, resetSeconds));
          return;
        }
        next();
      },
      (err: unknown) => {
        requestLog(res, logger).error({ limit: name, err: (err as Error).message }, 'rate limit store failed; request allowed');
        next();
      },
    );
  };
}
