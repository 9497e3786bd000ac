import type { AuthzHandler } from './routes/authz';
import { AUTHZ_PATH, AUTHZ_ROUTES, splitTarget } from './routes/authz';
import type { FastEdge, FastRoute } from './fast-lane';

/**
 * Forward-auth (`/v1/authz` and any path under it, any method) on node:http, in front of express: the same
 * handler as the app's routes (src/http/routes/authz.ts), which the app mounts before CORS and the body parser, so
 * the app does nothing else for these requests either. Taken when the request target is a plain path: starting
 * with `/v1/authz` (not an absolute URL) and without `%` (express decodes the path under /v1/authz/, and a bad
 * escape is its 400). Everything else goes to the app.
 */
export function fastAuthz(handle: AuthzHandler, edge: FastEdge): FastRoute {
  const under = `${AUTHZ_PATH}/`;
  return (req, res) => {
    const target = req.url ?? '';
    if (!target.startsWith(AUTHZ_PATH)) return false;
    const { path, query } = splitTarget(target);
    const exact = path === AUTHZ_PATH;
    if (!exact && !path.startsWith(under)) return false;
    if (path.includes('%')) return false;
    edge(req, res, exact ? AUTHZ_ROUTES.exact : AUTHZ_ROUTES.under);
    handle(req, res, path, query);
    return true;
  };
}
