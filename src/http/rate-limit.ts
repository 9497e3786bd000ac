import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { DependencyUnavailableError, RateLimitedError } from '../errors';
import type { SharedStore } from '../store/store';
import { clientKey } from './client-ip';
import { requestLog } from './request-logger';

export interface RateLimitOptions {
  store: SharedStore;
  /** Names the limited endpoint in the store key and the log. */
  name: string;
  perMinute: number;
  logger: Logger;
  /** RATE_LIMIT_ON_STORE_ERROR: when the store fails, let the request through with a warning, or refuse it (503). */
  onStoreError?: 'open' | 'closed';
}

const WINDOW_MS = 60_000;

/**
 * Per-client-IP fixed-window limit (429 with Retry-After). The IP is express's req.ip, which
 * believes X-Forwarded-For only through the proxies TRUST_PROXY names. If the store fails, by default
 * (RATE_LIMIT_ON_STORE_ERROR=open) the request is let through with a warning: limits protect capacity, not
 * correctness (replay marks and nonces fail closed on their own). `closed` refuses it with 503 instead.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  const { store, name, perMinute, logger } = options;
  const onStoreError = options.onStoreError ?? 'open';
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
        const message = (err as Error).message;
        if (onStoreError === 'closed') {
          requestLog(res, logger).error({ limit: name, err: message, policy: 'closed' }, 'rate limit store failed; request refused');
          next(new DependencyUnavailableError('rate limit unavailable; retry shortly'));
          return;
        }
        requestLog(res, logger).warn({ limit: name, err: message, policy: 'open' }, 'rate limit store failed; request allowed');
        next();
      },
    );
  };
}
