import { createHash, timingSafeEqual } from 'node:crypto';
import type { Router } from 'express';
import type { Logger } from 'pino';
import { InvalidTokenError } from '../../errors';
import { bearerToken } from '../bearer';
import { methodNotAllowed, strictRouter } from '../routing';
import { sendError } from '../send-error';

/** What GET /metrics serves (src/metrics/ builds it; compose/ wires it in). */
export interface MetricsEndpoint {
  contentType: string;
  render(): Promise<string>;
  /** METRICS_TOKEN: when set, a scrape must carry `Authorization: Bearer <this>`. */
  token?: string;
}

export const METRICS_PATH = '/metrics';
const METRICS_REALM = 'firebridge-metrics';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * GET /metrics in the Prometheus text format. With a token, a scrape without it is answered 401
 * (ERR_METRICS_CREDENTIAL), compared in constant time. Unlike the admin API's secret, failures are
 * not counted in the shared store: a scrape must keep working while Redis is down, which is when it
 * matters; the token is a ≥ 128-bit secret (config/metrics.ts), so guessing it is not the risk.
 */
export function metricsRoutes(endpoint: MetricsEndpoint, logger: Logger): Router {
  const router = strictRouter();
  const expected = endpoint.token === undefined ? undefined : digest(endpoint.token);
  router.get(METRICS_PATH, async (req, res) => {
    if (expected !== undefined) {
      try {
        if (!timingSafeEqual(digest(bearerToken(req.headers.authorization)), expected)) {
          throw new InvalidTokenError('not the metrics scrape credential (METRICS_TOKEN)', 'ERR_METRICS_CREDENTIAL');
        }
      } catch (err) {
        sendError(res, err, { logger, realm: METRICS_REALM });
        return;
      }
    }
    const body = await endpoint.render();
    res.setHeader('Content-Type', endpoint.contentType);
    res.send(body);
  });
  router.all(METRICS_PATH, methodNotAllowed('GET'));
  return router;
}
