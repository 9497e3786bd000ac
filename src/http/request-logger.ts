import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** What the request log says for a request no route matched: its raw path may hold anything, a token included. */
export const UNMATCHED_ROUTE = '(unmatched)';

/**
 * What a request's logger is made of: the app's logger and the request's ID. The child logger
 * carrying the reqId is made only when a line is logged for the request (requestLog): most
 * requests log nothing but their one request line, which needs no child.
 */
interface RequestLogState {
  base: Logger;
  reqId: string;
  child?: Logger;
}
const REQUEST_LOG = Symbol('firebridge.requestLog');
type WithRequestLog = ServerResponse & { [REQUEST_LOG]?: RequestLogState };

/** Fields a route adds to its request's log line (forward-auth's original method and path). */
const extraFields = new WeakMap<ServerResponse, Record<string, string>>();

/**
 * Adds fields to this request's one log line. The caller vouches for them: never a token, a query string or a
 * header's raw value (see `loggablePath`).
 */
export function annotateRequestLog(res: ServerResponse, fields: Record<string, string>): void {
  extraFields.set(res, { ...extraFields.get(res), ...fields });
}

const MAX_LOGGED_PATH = 256;

/**
 * A request target as a log may hold it: the path only (the query string and fragment, where a token could
 * travel, are dropped), characters outside visible ASCII as `?`, at most 256 characters.
 */
export function loggablePath(target: string): string {
  const end = target.search(/[?#]/);
  const path = (end < 0 ? target : target.slice(0, end)).replace(/[^\x21-\x7e]/gu, '?');
  return path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}...` : path;
}

/**
 * The logger for lines about this request: the request logger's child with the request's `reqId`,
 * or `fallback` where no request logger runs (the middleware inside someone else's app).
 */
export function requestLog(res: ServerResponse, fallback: Logger): Logger {
  const state = (res as WithRequestLog)[REQUEST_LOG];
  if (state === undefined) return fallback;
  state.child ??= state.base.child({ reqId: state.reqId });
  return state.child;
}

/**
 * The route pattern that matched (e.g. `/v1/me`), never the raw path: `GET /v1/<a token>` must not
 * write the token into the log. Express sets req.route once a route matched.
 */
export function routeOf(req: Request): string {
  return matchedRoute(req) ?? UNMATCHED_ROUTE;
}

/** The route pattern that matched, or undefined when none did (see routeOf). */
export function matchedRoute(req: Request): string | undefined {
  const pattern: unknown = (req.route as { path?: unknown } | undefined)?.path;
  return typeof pattern === 'string' ? `${req.baseUrl}${pattern}` : undefined;
}

/**
 * Told of every finished request (the metrics' request-duration histogram): the matched route pattern
 * (undefined when none matched; never the raw path), the status and the seconds it took.
 */
export type RequestObserver = (route: string | undefined, status: number, seconds: number) => void;

/**
 * One structured line per request: method, the matched route (never the raw path, query string or
 * any header, so no token reaches the log), status and duration. Propagates or creates
 * X-Request-Id, and gives every line logged for the request (requestLog) that reqId.
 */
export function requestLogger(logger: Logger, observe?: RequestObserver): RequestHandler {
  return (req, res, next) => {
    startRequestLog(logger, observe, req, res, () => matchedRoute(req));
    next();
  };
}

/**
 * What requestLogger does for one request, where no express route sets the pattern: `route` names it when the
 * response finishes (the fast GET /v1/me of src/http/fast-me.ts).
 */
export function startRequestLog(
  logger: Logger,
  observe: RequestObserver | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  route: () => string | undefined,
): void {
  const incoming = req.headers['x-request-id'];
  const reqId = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', reqId);
  (res as WithRequestLog)[REQUEST_LOG] = { base: logger, reqId };
  // Below info (LOG_LEVEL=warn...) the line would be dropped: without metrics, no listener, no closure.
  const logLine = logger.isLevelEnabled('info');
  if (logLine || observe !== undefined) {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const matched = route();
      if (logLine) {
        const extra = extraFields.get(res);
        // The same line a child with the reqId binding writes, without making the child.
        logger.info(
          { reqId, method: req.method, path: matched ?? UNMATCHED_ROUTE, ...extra, status: res.statusCode, ms: Math.round(ms * 10) / 10 },
          'request',
        );
      }
      observe?.(matched, res.statusCode, ms / 1000);
    });
  }
}
