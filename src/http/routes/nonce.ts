import type { RequestHandler, Router } from 'express';
import type { NonceService } from '../../auth/nonces';
import { methodNotAllowed, strictRouter } from '../routing';

/** POST /v1/nonce: a single-use, short-lived nonce for the app's next Google sign-in. */
export function nonceRoutes(nonces: NonceService, limit: RequestHandler): Router {
  const router = strictRouter();
  router.post('/v1/nonce', limit, async (_req, res) => {
    res.json(await nonces.issue());
  });
  router.all('/v1/nonce', methodNotAllowed('POST'));
  return router;
}
