import { type RequestHandler, Router } from 'express';
import type { NonceService } from '../../auth/nonces';

/** POST /v1/nonce: a single-use, short-lived nonce for the app's next Google sign-in. */
export function nonceRoutes(nonces: NonceService, limit: RequestHandler): Router {
  const router = Router();
  router.post('/v1/nonce', limit, async (_req, res) => {
    res.json(await nonces.issue());
  });
  return router;
}
