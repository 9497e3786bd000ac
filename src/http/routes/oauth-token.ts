import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { TokenExchange } from '../../auth/exchange';
import { AccessDeniedError, InvalidRequestError, InvalidTokenError, UnsupportedGrantTypeError } from '../../errors';
import { requestLog } from '../request-logger';
import { methodNotAllowed, strictRouter } from '../routing';

export const OAUTH_TOKEN_PATH = '/oauth/token';
/** RFC 8693 §2.1's grant type, and the token types (§3) taken and issued. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

export interface OAuthTokenRouteDeps {
  exchange: Pick<TokenExchange, 'exchange'>;
  /** The exchange's per-IP rate limit: the same one as POST /v1/token/google (one budget for both doors). */
  limit: RequestHandler;
  /** MAX_BODY_BYTES. */
  maxBodyBytes: number;
  logger: Logger;
}

/** Most form parameters read (RFC 8693 names nine); more is 413. */
const MAX_PARAMETERS = 20;

type Form = Record<string, string | string[] | undefined>;

/**
 * One parameter of an RFC 6749 §3.2 form: sent at most once; sent without a value, as if omitted.
 * Returns undefined when absent.
 */
function param(form: Form, name: string): string | undefined {
  const value = form[name];
  if (Array.isArray(value)) throw new InvalidRequestError(`"${name}" was sent more than once`);
  return value === undefined || value === '' ? undefined : value;
}

function required(form: Form, name: string): string {
  const value = param(form, name);
  if (value === undefined) throw new InvalidRequestError(`"${name}" is required`);
  return value;
}

/** The Google ID token of a well-formed token-exchange request, or the RFC 6749 error saying what is wrong. */
export function readTokenExchangeRequest(req: Request): string {
  if (!req.is('application/x-www-form-urlencoded')) {
    throw new InvalidRequestError('the body must be form-encoded (Content-Type: application/x-www-form-urlencoded), RFC 6749 §3.2');
  }
  const form = req.body as Form;
  const grantType = required(form, 'grant_type');
  if (grantType !== TOKEN_EXCHANGE_GRANT) {
    throw new UnsupportedGrantTypeError(`only "grant_type=${TOKEN_EXCHANGE_GRANT}" is supported`);
  }
  const subjectToken = required(form, 'subject_token');
  const subjectTokenType = required(form, 'subject_token_type');
  if (subjectTokenType !== ID_TOKEN_TYPE) {
    throw new InvalidRequestError(`"subject_token_type" must be ${ID_TOKEN_TYPE} (a Google ID token)`);
  }
  const requested = param(form, 'requested_token_type');
  if (requested !== undefined && requested !== JWT_TOKEN_TYPE) {
    throw new InvalidRequestError(`"requested_token_type" can only be ${JWT_TOKEN_TYPE} (a Firebase custom token)`);
  }
  // Delegation (RFC 8693 §1.1) is not offered: an actor token is refused rather than silently ignored.
  if (param(form, 'actor_token') !== undefined || param(form, 'actor_token_type') !== undefined) {
    throw new InvalidRequestError('"actor_token" is not supported (no delegation)');
  }
  return subjectToken;
}

/**
 * POST /oauth/token: RFC 8693 token exchange, a standards-based door to the exchange of POST /v1/token/google for
 * clients that speak OAuth. A Google ID token (`subject_token_type=...:id_token`) in, the Firebase custom token out
 * as `access_token` (`issued_token_type=...:jwt`, `token_type=N_A`). Form-encoded only (a JSON body is refused);
 * errors in the RFC 6749 §5.2 format, a subject token refused for any reason being `invalid_request` (RFC 8693
 * §2.2.2). Unrecognized parameters (`scope`, `audience`, `resource`) are ignored, as RFC 6749 §3.2 says.
 */
export function oauthTokenRoutes(deps: OAuthTokenRouteDeps): Router {
  const router = strictRouter();
  const form = express.urlencoded({ extended: false, limit: deps.maxBodyBytes, parameterLimit: MAX_PARAMETERS });
  const noCache: RequestHandler = (_req, res, next) => {
    // RFC 6749 §5.1 (Cache-Control: no-store is set on every response).
    res.setHeader('Pragma', 'no-cache');
    next();
  };
  router.post(OAUTH_TOKEN_PATH, noCache, deps.limit, form, async (req: Request, res: Response) => {
    const subjectToken = readTokenExchangeRequest(req);
    let result;
    try {
      result = await deps.exchange.exchange(subjectToken, undefined, { clientIp: req.ip });
    } catch (err) {
      if (!(err instanceof InvalidTokenError || err instanceof AccessDeniedError)) throw err;
      // RFC 8693 §2.2.2: an invalid subject token is invalid_request. The log keeps the precise code.
      requestLog(res, deps.logger).info({ status: 400, code: err.code }, 'request refused');
      res.status(400).json({ error: 'invalid_request', error_description: `subject_token: ${err.message}` });
      return;
    }
    res.json({ access_token: result.customToken, issued_token_type: JWT_TOKEN_TYPE, token_type: 'N_A', expires_in: result.expiresIn });
  });
  router.all(OAUTH_TOKEN_PATH, methodNotAllowed('POST'));
  return router;
}
