import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { requestLogger } from './request-logger';
import { type MetricsEndpoint, metricsRoutes } from './routes/metrics';
import { ROUTING } from './routing';
import { securityHeaderSetter } from './security-headers';
import { sendError } from './send-error';

/**
 * The app of the metrics listener (METRICS_PORT): GET /metrics and nothing else, every other path
 * 404. Its own requests are logged but not observed, so scrapes do not fill the main port's histogram.
 */
export function createMetricsApp(endpoint: MetricsEndpoint, logger: Logger): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('case sensitive routing', ROUTING.caseSensitive);
  app.set('strict routing', ROUTING.strict);
  // The main app's security headers (helmet's, precomputed, and no-store): the same on every listener.
  const setSecurityHeaders = securityHeaderSetter();
  const logRequest = requestLogger(logger);
  app.use((req, res, next) => {
    setSecurityHeaders(res);
    logRequest(req, res, next);
  });
  app.use(metricsRoutes(endpoint, logger));
  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not_found', error_description: 'no such route' });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    sendError(res, err, { logger });
  });
  return app;
}
