import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import type { SessionRevoker } from '../../auth/session-revoker';
import { DependencyUnavailableError, InvalidRequestError, InvalidTokenError, RateLimitedError } from '../../errors';
import type { SharedStore } from '../../store/store';
import { bearerToken } from '../bearer';
import { clientKey } from '../client-ip';
import { requestLog } from '../request-logger';
import { methodNotAllowed, strictRouter } from '../routing';
import { sendError } from '../send-error';

export interface AdminDeps {
  /** ADMIN_API_TOKEN. */
  token: string;
  /** Revokes every session of a user; returns the new validSince (seconds). */
  revoker: Pick<SessionRevoker, 'revoke'>;
  logger: Logger;
  /** Counts failed admin authentications per client IP (shared by instances through Redis). */
  store: Pick<SharedStore, 'hit' | 'take'>;
}

const ADMIN_REALM = 'firebridge-admin';
const REVOKE_ROUTE = '/v1/admin/revoke';

/** Failed admin authentications one client IP (IPv6: one /64) may make per minute. */
export const ADMIN_AUTH_FAILURES_PER_MINUTE = 10;
const WINDOW_MS = 60_000;

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Admin endpoints, mounted only when ADMIN_API_TOKEN is set (off by default), each requiring
 * `Authorization: Bearer <ADMIN_API_TOKEN>` (compared in constant time).
 * POST /v1/admin/revoke {"uid"}: revokes the user's sessions in Firebase (validSince = now).
 *
 * Guessing is throttled per client IP: every attempt is counted before the credential is looked
 * at, and a success clears the count, so the count is the failures since the last success. Past
 * ADMIN_AUTH_FAILURES_PER_MINUTE the answer is 429 without the credential being compared (a right
 * guess then looks like a wrong one), and concurrent guesses cannot slip past the count. If the
 * shared store cannot count, the admin API answers 503 rather than go unthrottled.
 */
export function adminRoutes(deps: AdminDeps): Router {
  const router = strictRouter();
  const expected = digest(deps.token);
  const authorize = (req: Request): void => {
    const presented = bearerToken(req.headers.authorization);
    if (!timingSafeEqual(digest(presented), expected)) {
      throw new InvalidTokenError('not an admin credential', 'ERR_ADMIN_CREDENTIAL');
    }
  };
  router.post(REVOKE_ROUTE, async (req: Request, res: Response) => {
    const log = requestLog(res, deps.logger);
    const failuresKey = `rl:admin-auth:${clientKey(req.ip)}`;
    let attempt: { count: number; resetMs: number };
    try {
      attempt = await deps.store.hit(failuresKey, WINDOW_MS);
    } catch (err) {
      throw new DependencyUnavailableError(`cannot count admin authentications: ${(err as Error).message}`);
    }
    if (attempt.count > ADMIN_AUTH_FAILURES_PER_MINUTE) {
      const retrySeconds = Math.max(1, Math.ceil(attempt.resetMs / 1000));
      log.warn({ route: REVOKE_ROUTE, ip: req.ip, attempts: attempt.count }, 'admin authentication throttled');
      throw new RateLimitedError(`too many failed admin authentications; retry in ${retrySeconds} s`, retrySeconds);
    }
    try {
      authorize(req);
    } catch (err) {
      log.warn({ route: REVOKE_ROUTE, ip: req.ip, failures: attempt.count }, 'admin request refused');
      sendError(res, err, { logger: deps.logger, realm: ADMIN_REALM });
      return;
    }
    // Authenticated: this attempt was no failure, and the count starts afresh.
    await deps.store.take(failuresKey).catch((err: unknown) => {
      log.warn({ err: (err as Error).message }, 'admin: could not clear the failure count');
    });
    const uid = (req.body as Record<string, unknown> | undefined)?.uid;
    if (typeof uid !== 'string' || uid.length === 0 || uid.length > 128) {
      throw new InvalidRequestError('"uid" must be a string of 1 to 128 characters');
    }
    const validSince = await deps.revoker.revoke(uid);
    log.warn({ uid, validSince, ip: req.ip }, 'admin: sessions revoked');
    res.json({ uid, revoked: true, validSince });
  });
  router.all(REVOKE_ROUTE, methodNotAllowed('POST'));
  return router;
}
