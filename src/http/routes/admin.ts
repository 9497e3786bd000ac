import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import { InvalidRequestError, InvalidTokenError } from '../../errors';
import { bearerToken } from '../bearer';
import { methodNotAllowed, strictRouter } from '../routing';
import { sendError } from '../send-error';

export interface AdminDeps {
  /** ADMIN_API_TOKEN. */
  token: string;
  /** Revokes every session of a user; returns the new validSince (seconds). */
  revokeSessions(uid: string): Promise<number>;
  logger: Logger;
}

const ADMIN_REALM = 'firebridge-admin';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Admin endpoints, mounted only when ADMIN_API_TOKEN is set (off by default), each requiring
 * `Authorization: Bearer <ADMIN_API_TOKEN>` (compared in constant time).
 * POST /v1/admin/revoke {"uid"}: revokes the user's sessions in Firebase (validSince = now).
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
  router.post('/v1/admin/revoke', async (req: Request, res: Response) => {
    try {
      authorize(req);
    } catch (err) {
      deps.logger.warn({ route: '/v1/admin/revoke' }, 'admin request refused');
      sendError(res, err, { logger: deps.logger, realm: ADMIN_REALM });
      return;
    }
    const uid = (req.body as Record<string, unknown> | undefined)?.uid;
    if (typeof uid !== 'string' || uid.length === 0 || uid.length > 128) {
      throw new InvalidRequestError('"uid" must be a string of 1 to 128 characters');
    }
    const validSince = await deps.revokeSessions(uid);
    deps.logger.warn({ uid, validSince }, 'admin: sessions revoked');
    res.json({ uid, revoked: true, validSince });
  });
  router.all('/v1/admin/revoke', methodNotAllowed('POST'));
  return router;
}
