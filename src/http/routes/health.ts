import type { Router } from 'express';
import type { CustomTokenMinter } from '../../auth/custom-token-generator';
import type { SharedStore } from '../../store/store';
import { methodNotAllowed, strictRouter } from '../routing';

/**
 * GET /healthz: the process is up. GET /readyz: a signing key is loaded and the shared store
 * answers (exchanges would fail otherwise); 503 with the reason when not. Both report the store:
 * `{backend: memory|redis, reachable}` (Redis comes back by itself: the next probe sees it).
 */
export function healthRoutes(minter: Pick<CustomTokenMinter, 'isReady'>, store: Pick<SharedStore, 'ping' | 'backend'>): Router {
  const router = strictRouter();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const storeState = { backend: store.backend, reachable: await store.ping() };
    if (!minter.isReady()) {
      res.status(503).json({ status: 'not_ready', reason: 'no signing key loaded', store: storeState });
      return;
    }
    if (!storeState.reachable) {
      res.status(503).json({ status: 'not_ready', reason: 'shared store unreachable', store: storeState });
      return;
    }
    res.json({ status: 'ready', store: storeState });
  });
  router.all('/healthz', methodNotAllowed('GET'));
  router.all('/readyz', methodNotAllowed('GET'));
  return router;
}
