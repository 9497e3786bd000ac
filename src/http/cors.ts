import type { RequestHandler } from 'express';
import type { CorsSettings } from '../config/cors';

/**
 * Request headers a browser may send cross-origin: the bridge's own (Authorization, Content-Type, X-Request-Id) and
 * those the Firebase JS SDK adds to every call (X-Client-Version, X-Firebase-gmpid, X-Firebase-Client,
 * X-Firebase-Locale, X-Firebase-AppCheck).
 */
export const CORS_ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'X-Request-Id',
  'X-Client-Version',
  'X-Firebase-gmpid',
  'X-Firebase-Client',
  'X-Firebase-Locale',
  'X-Firebase-AppCheck',
] as const;
export const CORS_ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'DELETE'] as const;
/** Response headers a page may read: the refusal's details, the rate limit's wait, the request's ID. */
export const CORS_EXPOSED_HEADERS = ['WWW-Authenticate', 'Retry-After', 'X-Request-Id'] as const;
/** How long a browser may cache a preflight's answer. */
export const CORS_MAX_AGE_SECONDS = 600;

/** `http://localhost` or `http://127.0.0.1`, any port (local mode's dev servers). */
const LOOPBACK_ORIGIN = /^http:\/\/(?:localhost|127\.0\.0\.1)(?::\d{1,5})?$/;

/** Whether `origin` (the request's Origin header) may read the bridge's answers. */
export function isAllowedOrigin(settings: CorsSettings, origin: string): boolean {
  if (settings.anyOrigin) return true;
  if (settings.origins.includes(origin)) return true;
  return settings.loopbackAnyPort && LOOPBACK_ORIGIN.test(origin);
}

/** Whether any origin is allowed at all (else the app mounts no CORS step: nothing to do per request). */
export function corsEnabled(settings: CorsSettings): boolean {
  return settings.anyOrigin || settings.loopbackAnyPort || settings.origins.length > 0;
}

/**
 * CORS (CORS_ORIGINS; local mode also allows http://localhost:* and http://127.0.0.1:*): an allowed Origin is
 * answered with Access-Control-Allow-Origin (that origin, or `*` for CORS_ORIGINS=* in local mode), and its
 * preflight (OPTIONS with Access-Control-Request-Method) with 204 and the methods and headers allowed. Any other
 * origin gets no CORS header at all (never reflected), so the browser withholds the answer; its preflight goes on
 * to the route like any OPTIONS request (404 or 405). No credentials: the bridge reads tokens from headers.
 */
export function cors(settings: CorsSettings): RequestHandler {
  if (!corsEnabled(settings)) return (_req, _res, next) => next();
  return (req, res, next) => {
    // The answer depends on Origin: a shared cache must not hand one origin's answer to another.
    res.vary('Origin');
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || !isAllowedOrigin(settings, origin)) {
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', settings.anyOrigin ? '*' : origin);
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (!preflight) {
      res.setHeader('Access-Control-Expose-Headers', CORS_EXPOSED_HEADERS.join(', '));
      next();
      return;
    }
    res.vary('Access-Control-Request-Method');
    res.vary('Access-Control-Request-Headers');
    res.setHeader('Access-Control-Allow-Methods', CORS_ALLOWED_METHODS.join(', '));
    res.setHeader('Access-Control-Allow-Headers', CORS_ALLOWED_HEADERS.join(', '));
    res.setHeader('Access-Control-Max-Age', String(CORS_MAX_AGE_SECONDS));
    res.status(204).end();
  };
}
