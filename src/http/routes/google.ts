import type { RequestHandler, Router } from 'express';
import type { AuditTrail } from '../../audit/audit-trail';
import { InvalidRequestError } from '../../errors';
import type { GoogleVault } from '../../vault/vault';
import { methodNotAllowed, strictRouter } from '../routing';

export interface GoogleRouteDeps {
  vault: Pick<GoogleVault, 'accessTokenFor' | 'unlink'>;
  requireAuth: RequestHandler;
  /** Every unlink is recorded (uid, IP). */
  audit?: AuditTrail;
}

/**
 * GET /v1/google/access-token (?scope=) → {accessToken, expiresAt, scopes}; DELETE /v1/google/link →
 * 204 (revoked at Google, row deleted; also when nothing was linked). Firebase ID token required.
 */
export function googleRoutes(deps: GoogleRouteDeps): Router {
  const router = strictRouter();
  router.get('/v1/google/access-token', deps.requireAuth, async (req, res) => {
    const scope = req.query.scope;
    if (scope !== undefined && (typeof scope !== 'string' || scope === '')) {
      throw new InvalidRequestError('"scope" must be one scope (e.g. https://www.googleapis.com/auth/drive.file)');
    }
    res.json(await deps.vault.accessTokenFor(req.firebaseUser?.uid as string, scope === undefined ? {} : { scope }));
  });
  router.all('/v1/google/access-token', methodNotAllowed('GET'));
  router.delete('/v1/google/link', deps.requireAuth, async (req, res) => {
    const uid = req.firebaseUser?.uid as string;
    await deps.vault.unlink(uid);
    deps.audit?.record({ event: 'vault.unlink', outcome: 'ok', uid, ip: req.ip, via: 'api' });
    res.status(204).end();
  });
  router.all('/v1/google/link', methodNotAllowed('DELETE'));
  return router;
}
