import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { rs256Scheduler } from '../jwt/rs256';
import { type RequestObserver, startRequestLog } from './request-logger';

/**
 * A route answered on node:http in front of the express app: it takes the request (and answers it) by returning
 * true, or leaves it to the app by returning false before touching the response.
 */
export type FastRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface FastEdgeOptions {
  logger: Logger;
  observe?: RequestObserver;
  /** The app's security headers (src/http/security-headers.ts), set on every answer as the app sets them. */
  setSecurityHeaders: (res: ServerResponse) => void;
}

/**
 * What the app's first middleware does for a request it answers (src/http/app.ts), for a fast route: the
 * request is noted for the RS256 scheduler, the security headers set, the request log line (and the metrics'
 * histogram) started under the route's pattern.
 */
export type FastEdge = (req: IncomingMessage, res: ServerResponse, route: string) => void;

export function fastEdge(options: FastEdgeOptions): FastEdge {
  const { logger, observe, setSecurityHeaders } = options;
  return (req, res, route) => {
    // Requests arriving together let signature checks go to libuv's pool (src/jwt/rs256.ts).
    rs256Scheduler.noteRequest();
    setSecurityHeaders(res);
    startRequestLog(logger, observe, req, res, () => route);
  };
}

/**
 * The server's request listener: each fast route in turn (BENCHMARKS.md: the express stack costs more than the
 * work of the hottest routes), the express app for everything they leave.
 */
export function withFastLane(app: RequestListener, routes: readonly FastRoute[]): RequestListener {
  return (req, res) => {
    for (const route of routes) if (route(req, res)) return;
    app(req, res);
  };
}
