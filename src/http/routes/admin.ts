import type { Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import type { SessionRevoker } from '../../auth/session-revoker';
import { type AuditTrail, auditFailure } from '../../audit/audit-trail';
import { InvalidRequestError } from '../../errors';
import type { SharedStore } from '../../store/store';
import { requestLog } from '../request-logger';
import { methodNotAllowed, strictRouter } from '../routing';
import { SECRET_AUTH_FAILURES_PER_MINUTE, sharedSecretAuth } from '../shared-secret-auth';

export interface AdminDeps {
  /** ADMIN_API_TOKEN. */
  token: string;
  /** Revokes every session of a user; returns the new validSince (seconds). */
  revoker: Pick<SessionRevoker, 'revoke'>;
  logger: Logger;
  /** Counts failed admin authentications per client IP (shared by instances through Redis). */
  store: Pick<SharedStore, 'hit' | 'take'>;
  /** Every revoke (authenticated) is recorded: uid, IP, outcome. */
  audit?: AuditTrail;
}

const ADMIN_REALM = 'firebridge-admin';
const REVOKE_ROUTE = '/v1/admin/revoke';

/** Failed admin authentications one client IP (IPv6: one /64) may make per minute. */
export const ADMIN_AUTH_FAILURES_PER_MINUTE = SECRET_AUTH_FAILURES_PER_MINUTE;

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
  const authenticate = sharedSecretAuth({
    name: 'admin',
    route: REVOKE_ROUTE,
    secret: deps.token,
    realm: ADMIN_REALM,
    refusal: { code: 'ERR_ADMIN_CREDENTIAL', description: 'not an admin credential' },
    counterName: 'admin-auth',
    store: deps.store,
    logger: deps.logger,
  });
  router.post(REVOKE_ROUTE, async (req: Request, res: Response) => {
    if (!(await authenticate(req, res))) return;
    const log = requestLog(res, deps.logger);
    const uid = (req.body as Record<string, unknown> | undefined)?.uid;
    if (typeof uid !== 'string' || uid.length === 0 || uid.length > 128) {
      throw new InvalidRequestError('"uid" must be a string of 1 to 128 characters');
    }
    let validSince: number;
    try {
      validSince = await deps.revoker.revoke(uid);
    } catch (err) {
      deps.audit?.record({ event: 'admin.revoke', ...auditFailure(err), uid, ip: req.ip });
      throw err;
    }
    deps.audit?.record({ event: 'admin.revoke', outcome: 'ok', uid, validSince, ip: req.ip });
    log.warn({ uid, validSince, ip: req.ip }, 'admin: sessions revoked');
    res.json({ uid, revoked: true, validSince });
  });
  router.all(REVOKE_ROUTE, methodNotAllowed('POST'));
  return router;
}
