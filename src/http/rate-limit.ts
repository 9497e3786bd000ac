import type { ServerResponse } from 'node:http';
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
 * Checks one request against the limit: resolves to let it through, rejects with the refusal (RateLimitedError,
 * or DependencyUnavailableError when the store fails and the policy is `closed`). Sets the RateLimit-* headers on
 * `res`. The express middleware (rateLimit) and the fast lane's exchange (src/http/fast-exchange.ts) share it.
 */
export type RateLimitCheck = (clientIp: string | undefined, res: ServerResponse) => Promise<void>;

/**
 * Per-client-IP fixed-window limit (429 with Retry-After). The IP is express's req.ip, which
 * believes X-Forwarded-For only through the proxies TRUST_PROXY names. If the store fails, by default
 * (RATE_LIMIT_ON_STORE_ERROR=open) the request is let through with a warning: limits protect capacity, not
 * correctness (replay marks and nonces fail closed on their own). `closed` refuses it with 503 instead.
 */
export function rateLimitCheck(options: RateLimitOptions): RateLimitCheck {
  const { store, name, perMinute, logger } = options;
  const onStoreError = options.onStoreError ?? 'open';
  if (perMinute <= 0) return () => Promise.resolve();
  return (clientIp, res) => {
    const client = clientKey(clientIp);
    return store.hit(`rl:${name}:${client}`, WINDOW_MS).then(
      ({ count, resetMs }) => {
        const resetSeconds = Math.max(1, Math.ceil(resetMs / 1000));
        res.setHeader('RateLimit-Limit', String(perMinute));
        res.setHeader('RateLimit-Remaining', String(Math.max(0, perMinute - count)));
        res.setHeader('RateLimit-Reset', String(resetSeconds));
        if (count > perMinute) {
          res.setHeader('Retry-After', String(resetSeconds));
          requestLog(res, logger).warn({ limit: name, client }, 'rate limit exceeded');
          throw new RateLimitedError(`too many requests; retry in ${resetSeconds} s`, resetSeconds);
        }
      },
      (err: unknown) => {
        const message = (err as Error).message;
        if (onStoreError === 'closed') {
          requestLog(res, logger).error({ limit: name, err: message, policy: 'closed' }, 'rate limit store failed; request refused');
          throw new DependencyUnavailableError('rate limit unavailable; retry shortly');
        }
        requestLog(res, logger).warn({ limit: name, err: message, policy: 'open' }, 'rate limit store failed; request allowed');
      },
    );
  };
}

/** rateLimitCheck as express middleware: a refusal goes to the app's error handler. */
export function rateLimit(options: RateLimitOptions): RequestHandler & { check: RateLimitCheck } {
  const check = rateLimitCheck(options);
  if (options.perMinute <= 0) return Object.assign<RequestHandler, { check: RateLimitCheck }>((_req, _res, next) => next(), { check });
  const middleware: RequestHandler = (req, res, next) => {
    check(req.ip, res).then(() => next(), next);
  };
  return Object.assign(middleware, { check });
}
