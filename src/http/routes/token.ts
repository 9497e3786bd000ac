import type { RequestHandler, Router } from 'express';
import type { ExchangeResult, ServerAuthCode, TokenExchange } from '../../auth/exchange';
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

const MAX_CODE_LENGTH = 2048;

/** The optional `serverAuthCode` (and `redirectUri`, default '') of the body readIdToken accepted. */
export function readServerAuthCode(body: Record<string, unknown>): ServerAuthCode | undefined {
  const { serverAuthCode: code, redirectUri } = body;
  if (code === undefined) {
    if (redirectUri !== undefined) throw new InvalidRequestError('"redirectUri" is only taken with "serverAuthCode"');
    return undefined;
  }
  if (typeof code !== 'string' || code === '' || code.length > MAX_CODE_LENGTH) {
    throw new InvalidRequestError(`"serverAuthCode" must be a non-empty string of at most ${MAX_CODE_LENGTH} characters`);
  }
  if (redirectUri !== undefined && (typeof redirectUri !== 'string' || redirectUri.length > MAX_CODE_LENGTH)) {
    throw new InvalidRequestError('"redirectUri" must be a string ("" for Android and iOS, "postmessage" for the web popup flow)');
  }
  return { code, redirectUri: redirectUri ?? '' };
}

export const TOKEN_PATH = '/v1/token/google';

/**
 * The exchange of a parsed request body (express.json's req.body): what POST /v1/token/google answers, on express
 * (below) and on the fast lane (src/http/fast-exchange.ts).
 */
export async function exchangeBody(exchange: TokenRouteDeps['exchange'], body: unknown, clientIp: string | undefined): Promise<ExchangeResult> {
  const idToken = readIdToken(body);
  const code = readServerAuthCode(body as Record<string, unknown>);
  return exchange.exchange(idToken, code, { clientIp });
}

/** POST /v1/token/google: a Google ID token (and optionally a server auth code) in, a Firebase custom token out. */
export function tokenRoutes(deps: TokenRouteDeps): Router {
  const router = strictRouter();
  router.post(TOKEN_PATH, deps.limit, async (req, res) => {
    res.json(await exchangeBody(deps.exchange, req.body, req.ip));
  });
  router.all(TOKEN_PATH, methodNotAllowed('POST'));
  return router;
}
