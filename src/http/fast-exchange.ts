import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { FastEdge, FastRoute } from './fast-lane';
import type { RateLimitCheck } from './rate-limit';
import { TOKEN_PATH, type TokenRouteDeps, exchangeBody } from './routes/token';
import { sendError, sendJson } from './send-error';
import { isPlainJsonBody, readPlainJson } from './json-body';

export interface FastExchangeOptions {
  exchange: TokenRouteDeps['exchange'];
  /** The app's JSON body parser (express.json with MAX_BODY_BYTES): the same parsing, limits and refusals. */
  jsonBody: RequestHandler;
  /** MAX_BODY_BYTES: a plain JSON body within it is read here (src/http/json-body.ts), any other by jsonBody. */
  maxBodyBytes: number;
  /** The app's exchange limit (RATE_LIMIT_EXCHANGE_PER_MINUTE), shared with POST /oauth/token. */
  limit: RateLimitCheck;
  /** The client's address as the app's req.ip reads it (TRUST_PROXY). */
  clientIp: (req: IncomingMessage) => string | undefined;
  logger: Logger;
  edge: FastEdge;
  /** CORS is on: a request with an Origin takes the app's path (the CORS headers are the app's business). */
  corsEnabled: boolean;
}

/**
 * `POST /v1/token/google` on node:http, in front of express: what the app does for it, in the app's order, without
 * the router. A plain JSON body is read and parsed as the app's parser would (src/http/json-body.ts), any other
 * through the app's own parser (so every malformed, oversized, compressed or mis-typed body gets the app's
 * refusal); then the exchange's rate limit, then the exchange (src/http/routes/token.ts's exchangeBody), its answer
 * or refusal written by sendJson / sendError as the app's handler and error handler write them. Taken when the
 * target is exactly the path and the method POST, and, with CORS on, no Origin came; everything else goes to the
 * app (test/http/fast-exchange.test.ts compares the two answer for answer).
 */
export function fastExchange(options: FastExchangeOptions): FastRoute {
  const { exchange, jsonBody, maxBodyBytes, limit, clientIp, logger, edge, corsEnabled } = options;
  const refuse = (res: ServerResponse, err: unknown) => sendError(res, err, { logger });
  const answer = (req: IncomingMessage, res: ServerResponse, err: unknown, body: unknown) => {
    if (err !== undefined) {
      refuse(res, err);
      return;
    }
    const ip = clientIp(req);
    limit(ip, res)
      .then(() => exchangeBody(exchange, body, ip))
      .then(
        (result) => sendJson(res, 200, JSON.stringify(result)),
        (refusal: unknown) => refuse(res, refusal),
      );
  };
  return (req, res) => {
    if (req.url !== TOKEN_PATH || req.method !== 'POST') return false;
    if (corsEnabled && req.headers.origin !== undefined) return false;
    edge(req, res, TOKEN_PATH);
    // What the app's CORS step adds to an answer without an Origin: it depends on Origin.
    if (corsEnabled) res.setHeader('Vary', 'Origin');
    if (isPlainJsonBody(req, maxBodyBytes)) {
      readPlainJson(req, (err, body) => answer(req, res, err, body));
      return true;
    }
    // body-parser reads node:http's request as it reads express's; req.body is where it puts the result.
    jsonBody(req as Parameters<RequestHandler>[0], res as Parameters<RequestHandler>[1], (err?: unknown) =>
      answer(req, res, err, (req as { body?: unknown }).body),
    );
    return true;
  };
}
