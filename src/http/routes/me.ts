import type { RequestHandler, Router } from 'express';
import { methodNotAllowed, strictRouter } from '../routing';

/** GET /v1/me: the verified user of the bearer token, with all its claims. */
export function meRoutes(requireAuth: RequestHandler): Router {
  const router = strictRouter();
  router.get('/v1/me', requireAuth, (req, res) => {
    const user = req.firebaseUser;
    res.json({ uid: user?.uid, claims: user?.claims });
  });
  router.all('/v1/me', methodNotAllowed('GET'));
  return router;
}
