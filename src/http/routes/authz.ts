import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { Request, Router } from 'express';
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

function header(req: IncomingMessage, name: string): string | undefined {
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
function tokenOf(req: IncomingMessage, cookieName: string | undefined): string {
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

/** The rules a query string adds, parsed as express 5 parses req.query (node:querystring). */
function queryRules(query: string): AuthzQuery {
  const parsed = parseQuery(query);
  return { claim: strings(parsed.claim), emailDomain: strings(parsed.email_domain) };
}

/**
 * The original request, for the log line: nginx sends X-Original-Method / X-Original-URI (as the example
 * config sets them), Traefik and Caddy X-Forwarded-Method / X-Forwarded-Uri, Envoy the request itself
 * under /v1/authz/. Only the path is logged: a query string may carry a token.
 */
function annotateOriginal(req: IncomingMessage, res: ServerResponse, path: string): void {
  const fields: Record<string, string> = {};
  const under = path.startsWith(`${AUTHZ_PATH}/`);
  const method = header(req, 'x-original-method') ?? header(req, 'x-forwarded-method') ?? (under ? req.method : undefined);
  if (method !== undefined) fields.originalMethod = METHOD.test(method) ? method.toUpperCase() : '?';
  const uri = header(req, 'x-original-uri') ?? header(req, 'x-forwarded-uri') ?? (under ? path.slice(AUTHZ_PATH.length) : undefined);
  if (uri !== undefined) fields.originalPath = loggablePath(uri);
  if (method !== undefined || uri !== undefined) annotateRequestLog(res, fields);
}

/**
 * The X-Auth-* headers of each user served from the verified-token cache: its user object is frozen and shared by
 * every hit, so they are the same every time and are built once (weakly held: they go with the entry).
 */
const headerCache = new WeakMap<FirebaseUser, ReadonlyArray<readonly [string, string]>>();

/** authzHeaders as name-value pairs, built once per cached user. */
function authzHeaderList(user: FirebaseUser): ReadonlyArray<readonly [string, string]> {
  const cached = headerCache.get(user);
  if (cached !== undefined) return cached;
  const list = Object.entries(authzHeaders(user));
  if (Object.isFrozen(user) && Object.isFrozen(user.claims)) headerCache.set(user, list);
  return list;
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

/** The route patterns forward-auth answers at (the request log names the one that matched). */
export const AUTHZ_ROUTES = { exact: AUTHZ_PATH, under: `${AUTHZ_PATH}/{*rest}` } as const;

/**
 * Answers one forward-auth request: `path` is the request's path (no query string), `query` its query string
 * (without the `?`; undefined when it has none). On node:http's request and response: the express routes below and
 * the fast lane (src/http/fast-authz.ts) call the same function.
 */
export type AuthzHandler = (req: IncomingMessage, res: ServerResponse, path: string, query: string | undefined) => void;

/**
 * Forward-auth for reverse proxies: nginx auth_request, Traefik ForwardAuth, Envoy ext_authz (HTTP), Caddy
 * forward_auth. Any method, `/v1/authz` and any path under it. A valid Firebase ID token that meets every
 * rule: 200 with X-Auth-Uid, X-Auth-Email, X-Auth-Email-Verified, X-Auth-Claims, X-Auth-Provider. No or a bad
 * token: 401 with WWW-Authenticate. A rule refuses: 403. The same verifier as /v1/me (verified-token cache,
 * revocation), answered synchronously on a cache hit. It never reads a body.
 */
export function authzHandler(deps: AuthzDeps): AuthzHandler {
  const { verifier, settings, logger } = deps;
  const realm = DEFAULT_REALM;
  const fail = (res: ServerResponse, err: unknown): void => sendError(res, err, { logger, realm });
  const settingsRules = authzRules(settings, { claim: [], emailDomain: [] });
  const allow = (res: ServerResponse, user: FirebaseUser, rules: AuthzRules): void => {
    let headers: ReadonlyArray<readonly [string, string]>;
    try {
      checkAuthz(user.claims, rules);
      headers = authzHeaderList(user);
    } catch (err) {
      fail(res, err);
      return;
    }
    for (const [name, value] of headers) res.setHeader(name, value);
    res.statusCode = 200;
    res.end();
  };
  return (req, res, path, query) => {
    annotateOriginal(req, res, path);
    let token: string;
    let rules: AuthzRules;
    try {
      // Under /v1/authz/<path> (Envoy's path_prefix) the query is the original request's, the client's: it
      // never names rules there. /v1/authz and /v1/authz/ take rules from their query (a proxy's subrequest
      // URI, `auth_request /v1/authz/?claim=admin` too: never silently dropped). Query rules only add
      // restrictions to the settings' (claims required, email domains allowed), so a client's own query at
      // /v1/authz/ (Envoy, for the path "/") can only refuse itself.
      const ownQuery = query !== undefined && query !== '' && (path === AUTHZ_PATH || path === `${AUTHZ_PATH}/`);
      rules = ownQuery ? authzRules(settings, queryRules(query)) : settingsRules;
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
}

/**
 * A request target's path and query string (without the `?`; undefined when it has none), a fragment dropped, as
 * express's req.path and req.query read them (parseurl).
 */
export function splitTarget(target: string): { path: string; query: string | undefined } {
  const hash = target.indexOf('#');
  const url = hash < 0 ? target : target.slice(0, hash);
  const at = url.indexOf('?');
  return at < 0 ? { path: url, query: undefined } : { path: url.slice(0, at), query: url.slice(at + 1) };
}

/**
 * Forward-auth's routes (see authzHandler) on express: mounted before the body parser (it never reads a body) and
 * before CORS (a proxy forwarding a preflight must get the token's verdict).
 */
export function authzRoutes<R extends Pick<Router, 'route'>>(deps: AuthzDeps, on?: R): R | Router {
  const handle = authzHandler(deps);
  const handler = (req: Request, res: ServerResponse) => handle(req, res, req.path, splitTarget(req.originalUrl).query);
  // On the app itself when given (the hot path: one router's dispatch less per request); strict either way.
  const router = on ?? strictRouter();
  // Two routes, not one with an array of paths: the request log names the matched pattern (a string).
  // route(path).all, not app.all: express's app.all adds one layer per HTTP method, a route's all() one for them all.
  router.route(AUTHZ_ROUTES.exact).all(handler);
  router.route(AUTHZ_ROUTES.under).all(handler);
  return router;
}
