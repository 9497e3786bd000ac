import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { DependencyUnavailableError, InvalidTokenError, RateLimitedError } from '../errors';
import type { SharedStore } from '../store/store';
import { bearerToken } from './bearer';
import { clientKey } from './client-ip';
import { requestLog } from './request-logger';
import { sendError } from './send-error';

/** Failed authentications one client IP (IPv6: one /64) may make per minute, on each shared-secret API. */
export const SECRET_AUTH_FAILURES_PER_MINUTE = 10;
const WINDOW_MS = 60_000;

export interface SharedSecretAuthOptions {
  /** What the secret guards, for messages and log lines ("admin", "push relay"). */
  name: string;
  /** The route it guards (log lines). */
  route: string;
  /** The secret (ADMIN_API_TOKEN, PUSH_API_TOKEN). */
  secret: string;
  /** WWW-Authenticate realm of refusals. */
  realm: string;
  /** The refusal's code and description. */
  refusal: { code: 'ERR_ADMIN_CREDENTIAL' | 'ERR_PUSH_CREDENTIAL'; description: string };
  /** Store key of the failure counter, before the client key ("admin-auth"). */
  counterName: string;
  /** Counts failed authentications per client IP (shared by instances through Redis). */
  store: Pick<SharedStore, 'hit' | 'take'>;
  logger: Logger;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * `Authorization: Bearer <a shared secret>`, compared in constant time, with guessing throttled per
 * client IP: every attempt is counted before the credential is looked at, and a success clears the
 * count, so the count is the failures since the last success. Past SECRET_AUTH_FAILURES_PER_MINUTE
 * the answer is 429 without the credential being compared (a right guess then looks like a wrong
 * one), and concurrent guesses cannot slip past the count. If the shared store cannot count, the
 * answer is 503 rather than going unthrottled. Refusals are logged with the client IP (and, through
 * the request's logger, its request ID); the credential never is.
 *
 * Resolves true when the request is authenticated; false when it has been answered (401).
 */
export function sharedSecretAuth(options: SharedSecretAuthOptions): (req: Request, res: Response) => Promise<boolean> {
  const expected = digest(options.secret);
  const { name, route } = options;
  return async (req, res) => {
    const log = requestLog(res, options.logger);
    const failuresKey = `rl:${options.counterName}:${clientKey(req.ip)}`;
    let attempt: { count: number; resetMs: number };
    try {
      attempt = await options.store.hit(failuresKey, WINDOW_MS);
    } catch (err) {
      throw new DependencyUnavailableError(`cannot count ${name} authentications: ${(err as Error).message}`);
    }
    if (attempt.count > SECRET_AUTH_FAILURES_PER_MINUTE) {
      const retrySeconds = Math.max(1, Math.ceil(attempt.resetMs / 1000));
      log.warn({ route, ip: req.ip, attempts: attempt.count }, `${name} authentication throttled`);
      throw new RateLimitedError(`too many failed ${name} authentications; retry in ${retrySeconds} s`, retrySeconds);
    }
    try {
      if (!timingSafeEqual(digest(bearerToken(req.headers.authorization)), expected)) {
        throw new InvalidTokenError(options.refusal.description, options.refusal.code);
      }
    } catch (err) {
      log.warn({ route, ip: req.ip, failures: attempt.count }, `${name} request refused`);
      sendError(res, err, { logger: options.logger, realm: options.realm });
      return false;
    }
    // Authenticated: this attempt was no failure, and the count starts afresh.
    await options.store.take(failuresKey).catch((err: unknown) => {
      log.warn({ err: (err as Error).message }, `${name}: could not clear the failure count`);
    });
    return true;
  };
}
