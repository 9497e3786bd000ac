import type { RequestHandler, Router } from 'express';
import type { FirebaseUser } from '../../auth/firebase-token-verifier';
import { methodNotAllowed, strictRouter } from '../routing';
import { sendJson } from '../send-error';

/**
 * The JSON body of each user served from the verified-token cache: its user object is frozen and shared by every
 * hit, so the body is the same string every time and is serialized once (weakly held: it goes with the entry).
 */
const bodies = new WeakMap<FirebaseUser, string>();

export const ME_PATH = '/v1/me';

export function meBody(user: FirebaseUser | undefined): string {
  const cached = user === undefined ? undefined : bodies.get(user);
  if (cached !== undefined) return cached;
  const body = JSON.stringify({ uid: user?.uid, claims: user?.claims });
  if (user !== undefined && Object.isFrozen(user) && Object.isFrozen(user.claims)) bodies.set(user, body);
  return body;
}

/**
 * GET /v1/me: the verified user of the bearer token, with all its claims. On a router of its own, or on `on` (the
 * app itself, for the hot path: one router's dispatch less per request); either matches strictly (ROUTING).
 */
export function meRoutes<R extends Pick<Router, 'route'>>(requireAuth: RequestHandler, on?: R): R | Router {
  const router = on ?? strictRouter();
  // route(path).all, not app.all: express's app.all adds one layer per HTTP method, a route's all() one for them all.
  router.route(ME_PATH).get(requireAuth, (req, res) => {
    // What res.json sends, without serializing a cached user again (the same answer as the fast path's).
    sendJson(res, 200, meBody(req.firebaseUser));
  });
  router.route(ME_PATH).all(methodNotAllowed('GET'));
  return router;
}
