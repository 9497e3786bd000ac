import type { FirebaseTokenVerifier, FirebaseUser } from '../auth/firebase-token-verifier';
import type { Logger } from 'pino';
import type { ServerResponse } from 'node:http';
import { bearerToken } from './bearer';
import type { FastEdge, FastRoute } from './fast-lane';
import { ME_PATH, meBody } from './routes/me';
import { DEFAULT_REALM, sendError, sendJson } from './send-error';

export interface FastMeOptions {
  verifier: FirebaseTokenVerifier;
  logger: Logger;
  edge: FastEdge;
  /** CORS is on: a request with an Origin takes the app's path (the CORS headers are the app's business). */
  corsEnabled: boolean;
}

/**
 * `GET /v1/me` on plain node:http, in front of express: the hottest route, answered without express's router,
 * request and response decoration. It takes only the plain case: exactly `GET /v1/me` (no query), a well-formed
 * `Authorization: Bearer <token>`, and no Origin when CORS is on. Everything else (HEAD, another method, a query
 * string, a missing or malformed header) goes to the express app, which answers it as always. What it answers, it
 * answers as the app does: the same security headers, X-Request-Id and request log line (route `/v1/me`) and
 * metrics, the same verifier (cache, revocation), the same body, and refusals through the same sendError with the
 * same challenge (test/http/fast-me.test.ts compares the two answer for answer).
 */
export function fastMe(options: FastMeOptions): FastRoute {
  const { verifier, logger, edge, corsEnabled } = options;
  const accept = (res: ServerResponse, user: FirebaseUser) => sendJson(res, 200, meBody(user));
  const refuse = (res: ServerResponse, err: unknown) => sendError(res, err, { logger, realm: DEFAULT_REALM });
  return (req, res) => {
    if (req.url !== ME_PATH || req.method !== 'GET') return false;
    if (corsEnabled && req.headers.origin !== undefined) return false;
    let token: string;
    try {
      token = bearerToken(req.headers.authorization);
    } catch {
      return false; // no or a malformed credential: the app's answer (401 with a bare challenge, 400)
    }
    edge(req, res, ME_PATH);
    // What the app's CORS step adds to an answer without an Origin: it depends on Origin.
    if (corsEnabled) res.setHeader('Vary', 'Origin');
    let hit: FirebaseUser | undefined;
    try {
      hit = verifier.peek?.(token);
    } catch (err) {
      refuse(res, err);
      return true;
    }
    if (hit !== undefined) {
      accept(res, hit);
      return true;
    }
    verifier.verify(token).then(
      (user) => accept(res, user),
      (err: unknown) => refuse(res, err),
    );
    return true;
  };
}
