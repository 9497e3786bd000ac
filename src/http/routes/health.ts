import type { Router } from 'express';
import type { CustomTokenMinter } from '../../auth/custom-token-generator';
import type { SharedStore } from '../../store/store';
import { methodNotAllowed, strictRouter } from '../routing';

/**
 * GET /healthz: the process is up. GET /readyz: a signing key is loaded and the shared store
 * answers (exchanges would fail otherwise); 503 with the reason when not.
 */
export function healthRoutes(minter: Pick<CustomTokenMinter, 'isReady'>, store: Pick<SharedStore, 'ping'>): Router {
  const router = strictRouter();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    if (!minter.isReady()) {
      res.status(503).json({ status: 'not_ready', reason: 'no signing key loaded' });
      return;
    }
    if (!(await store.ping())) {
      res.status(503).json({ status: 'not_ready', reason: 'shared store unreachable' });
      return;
    }
    res.json({ status: 'ready' });
  });
  router.all('/healthz', methodNotAllowed('GET'));
  router.all('/readyz', methodNotAllowed('GET'));
  return router;
}
