import { Router } from 'express';
import type { CustomTokenSigner } from '../../auth/signer';

/** GET /healthz: the process is up. GET /readyz: a signing key is loaded (503 otherwise). */
export function healthRoutes(signer: Pick<CustomTokenSigner, 'isReady'>): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    if (signer.isReady()) res.json({ status: 'ready' });
    else res.status(503).json({ status: 'not_ready', reason: 'no signing key loaded' });
  });
  return router;
}
