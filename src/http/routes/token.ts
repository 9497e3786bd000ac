import type { RequestHandler, Router } from 'express';
import type { TokenExchange } from '../../auth/exchange';
import { InvalidRequestError } from '../../errors';
import { methodNotAllowed, strictRouter } from '../routing';

export interface TokenRouteDeps {
  exchange: Pick<TokenExchange, 'exchange'>;
  /** Per-IP rate limit of the exchange (RATE_LIMIT_EXCHANGE_PER_MINUTE). */
  limit: RequestHandler;
}

/** Reads `{"idToken": "<string>"}` from a JSON body, or says exactly what is wrong. */
export function readIdToken(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError('the body must be a JSON object (Content-Type: application/json)');
  }
  const idToken = (body as Record<string, unknown>).idToken;
  if (idToken === undefined) throw new InvalidRequestError('"idToken" is required');
  if (typeof idToken !== 'string' || idToken === '') {
    throw new InvalidRequestError('"idToken" must be a non-empty string');
  }
  return idToken;
}

/** POST /v1/token/google: a Google ID token in, a Firebase custom token out. */
export function tokenRoutes(deps: TokenRouteDeps): Router {
  const router = strictRouter();
  router.post('/v1/token/google', deps.limit, async (req, res) => {
    res.json(await deps.exchange.exchange(readIdToken(req.body)));
  });
  router.all('/v1/token/google', methodNotAllowed('POST'));
  return router;
}
