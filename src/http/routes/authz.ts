import type { Request, RequestHandler, Response, Router } from 'express';
import type { Logger } from 'pino';
import { type AuthzQuery, type AuthzRules, authzRules, checkAuthz } from '../../auth/authz-rules';
import type { FirebaseTokenVerifier, FirebaseUser } from '../../auth/firebase-token-verifier';
import type { AuthzSettings } from '../../config/authz';
import { AccessDeniedError, InvalidRequestError, InvalidTokenError, MissingCredentialsError } from '../../errors';
import { BEARER_TOKEN, bearerToken } from '../bearer';
import { annotateRequestLog, loggablePath } from '../request-logger';
import { strictRouter } from '../routing';
import { DEFAULT_REALM, sendError } from '../send-error';

export interface AuthzDeps {
  verifier: FirebaseTokenVerifier;
  settings: AuthzSettings;
  logger: Logger;
}

/** The path, and the prefix under which Envoy's ext_authz forwards the original path. */
export const AUTHZ_PATH = '/v1/authz';

/** The headers a 200 carries, which the proxy copies to the upstream (and must strip from every client request). */
export const AUTHZ_RESPONSE_HEADERS = ['X-Auth-Uid', 'X-Auth-Email', 'X-Auth-Email-Verified', 'X-Auth-Claims', 'X-Auth-Provider'] as const;

/** A header value a proxy passes on intact: visible ASCII, inner spaces allowed, none at either end. */
const HEADER_SAFE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
const METHOD = /^[A-Za-z-]{1,20}$/;
const MAX_COOKIE_HEADER = 8192;

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The cookie's value (the first of that name; surrounding double quotes removed), or undefined. */
export function cookieValue(cookieHeader: string | undefined, name: string): string | undefined {
  if (cookieHeader === undefined || cookieHeader.length > MAX_COOKIE_HEADER) return undefined;
  for (const pair of cookieHeader.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    const value = pair.slice(eq + 1).trim();
    return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  }
  return undefined;
}

/**
 * The Firebase ID token of the request: the Bearer header, else (when AUTHZ_COOKIE_NAME is set) the cookie.
 * A malformed credential is 401 invalid_token, never 400: nginx's auth_request turns any answer but
 * 2xx/401/403 into a 500, and a 401 lets the client see the bridge's challenge.
 */
function tokenOf(req: Request, cookieName: string | undefined): string {
  try {
    return bearerToken(req.headers.authorization);
  } catch (err) {
    if (err instanceof InvalidRequestError) throw new InvalidTokenError(err.message, 'ERR_INVALID_TOKEN', { cause: err });
    if (!(err instanceof MissingCredentialsError) || cookieName === undefined) throw err;
  }
  const value = cookieValue(header(req, 'cookie'), cookieName);
  if (value === undefined || value === '') throw new MissingCredentialsError('a Bearer token or the session cookie is required');
  if (!BEARER_TOKEN.test(value)) throw new InvalidTokenError(`the ${cookieName} cookie does not hold a token`);
  return value;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

function queryRules(req: Request): AuthzQuery {
  // req.query parses the query string on each read; an empty one (the common case) is not parsed at all.
  if (!req.originalUrl.includes('?')) return { claim: [], emailDomain: [] };
  return { claim: strings(req.query.claim), emailDomain: strings(req.query.email_domain) };
}

/**
 * The original request, for the log line: nginx sends X-Original-Method / X-Original-URI (as the example
 * config sets them), Traefik and Caddy X-Forwarded-Method / X-Forwarded-Uri, Envoy the request itself
 * under /v1/authz/. Only the path is logged: a query string may carry a token.
 */
function annotateOriginal(req: Request, res: Response): void {
  const fields: Record<string, string> = {};
  const under = req.path.startsWith(`${AUTHZ_PATH}/`);
  const method = header(req, 'x-original-method') ?? header(req, 'x-forwarded-method') ?? (under ? req.method : undefined);
  if (method !== undefined) fields.originalMethod = METHOD.test(method) ? method.toUpperCase() : '?';
  const uri = header(req, 'x-original-uri') ?? header(req, 'x-forwarded-uri') ?? (under ? req.path.slice(AUTHZ_PATH.length) : undefined);
  if (uri !== undefined) fields.originalPath = loggablePath(uri);
  if (method !== undefined || uri !== undefined) annotateRequestLog(res, fields);
}

/** The X-Auth-* headers of a verified user. Throws AccessDeniedError when its uid cannot travel in a header. */
export function authzHeaders(user: FirebaseUser): Record<string, string> {
  if (!HEADER_SAFE.test(user.uid)) throw new AccessDeniedError('this uid cannot be carried in an HTTP header');
  const { claims } = user;
  const headers: Record<string, string> = {
    'X-Auth-Uid': user.uid,
    'X-Auth-Email-Verified': claims.email_verified === true ? 'true' : 'false',
    // Every claim, JSON in base64url: whatever characters the claims hold, the header value is safe.
    'X-Auth-Claims': Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url'),
  };
  // Left out unless ASCII: a proxy copies the header as it is, and anything else would be mangled or refused.
  if (typeof claims.email === 'string' && HEADER_SAFE.test(claims.email)) headers['X-Auth-Email'] = claims.email;
  const firebase = claims.firebase;
  const provider =
    typeof firebase === 'object' && firebase !== null ? (firebase as Record<string, unknown>).sign_in_provider : undefined;
  if (typeof provider === 'string' && HEADER_SAFE.test(provider)) headers['X-Auth-Provider'] = provider;
  return headers;
}

/**
 * Forward-auth for reverse proxies: nginx auth_request, Traefik ForwardAuth, Envoy ext_authz (HTTP), Caddy
 * forward_auth. Any method, `/v1/authz` and any path under it. A valid Firebase ID token that meets every
 * rule: 200 with X-Auth-Uid, X-Auth-Email, X-Auth-Email-Verified, X-Auth-Claims, X-Auth-Provider. No or a bad
 * token: 401 with WWW-Authenticate. A rule refuses: 403. The same verifier as /v1/me (verified-token cache,
 * revocation), answered synchronously on a cache hit. Mounted before the body parser: it never reads a body.
 */
export function authzRoutes<R extends Pick<Router, 'route'>>(deps: AuthzDeps, on?: R): R | Router {
  const { verifier, settings, logger } = deps;
  const realm = DEFAULT_REALM;
  const fail = (res: Response, err: unknown): void => sendError(res, err, { logger, realm });
  const settingsRules = authzRules(settings, { claim: [], emailDomain: [] });
  const allow = (res: Response, user: FirebaseUser, rules: AuthzRules): void => {
    let headers: Record<string, string>;
    try {
      checkAuthz(user.claims, rules);
      headers = authzHeaders(user);
    } catch (err) {
      fail(res, err);
      return;
    }
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    res.status(200).end();
  };
  const handler: RequestHandler = (req, res) => {
    annotateOriginal(req, res);
    let token: string;
    let rules: AuthzRules;
    try {
      // Under /v1/authz/<path> (Envoy's path_prefix) the query is the original request's, the client's: it
      // never names rules there. /v1/authz and /v1/authz/ take rules from their query (a proxy's subrequest
      // URI, `auth_request /v1/authz/?claim=admin` too: never silently dropped). Query rules only add
      // restrictions to the settings' (claims required, email domains allowed), so a client's own query at
      // /v1/authz/ (Envoy, for the path "/") can only refuse itself.
      rules = req.path === AUTHZ_PATH || req.path === `${AUTHZ_PATH}/` ? authzRules(settings, queryRules(req)) : settingsRules;
      token = tokenOf(req, settings.cookieName);
    } catch (err) {
      fail(res, err);
      return;
    }
    // A client repeats its ID token for up to an hour: answer cache hits without a promise (as /v1/me).
    const hit = verifier.peek?.(token);
    if (hit !== undefined) {
      allow(res, hit, rules);
      return;
    }
    verifier.verify(token).then(
      (user) => allow(res, user, rules),
      (err: unknown) => fail(res, err),
    );
  };
  // On the app itself when given (the hot path: one router's dispatch less per request); strict either way.
  const router = on ?? strictRouter();
  // Two routes, not one with an array of paths: the request log names the matched pattern (a string).
  // route(path).all, not app.all: express's app.all adds one layer per HTTP method, a route's all() one for them all.
  router.route(AUTHZ_PATH).all(handler);
  router.route(`${AUTHZ_PATH}/{*rest}`).all(handler);
  return router;
}
