import { type RequestHandler, Router } from 'express';
import { MethodNotAllowedError } from '../errors';

/**
 * Every router of the app matches paths exactly: case-sensitive and strict (a trailing slash is
 * another path). Express's defaults would let `/V1/ADMIN/REVOKE` and `/v1/admin/revoke/` reach the
 * admin handler past a proxy rule written for `/v1/admin/`. The app sets the same on itself.
 */
export const ROUTING = { caseSensitive: true, strict: true } as const;

export function strictRouter(): Router {
  return Router(ROUTING);
}

/**
 * For `router.all(path, ...)` after a path's routes: any other method is 405 with `Allow` naming
 * the methods the path takes (a GET route takes HEAD too), answered in the app's JSON error shape.
 */
export function methodNotAllowed(...methods: string[]): RequestHandler {
  const allow = methods.includes('GET') && !methods.includes('HEAD') ? [...methods, 'HEAD'] : methods;
  return (req, _res, next) => {
    next(new MethodNotAllowedError(`${req.method} is not allowed here; this route takes ${allow.join(', ')}`, allow));
  };
}
