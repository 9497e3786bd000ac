import type { Router } from 'express';
import type { AuditStatus } from '../../audit/audit-trail';
import type { CustomTokenMinter } from '../../auth/custom-token-generator';
import type { SharedStore } from '../../store/store';
import { methodNotAllowed, strictRouter } from '../routing';

/**
 * GET /healthz: the process is up. GET /readyz: a signing key is loaded and the shared store
 * answers (exchanges would fail otherwise); 503 with the reason when not. Both report the store:
 * `{backend: memory|redis, reachable}` (Redis comes back by itself: the next probe sees it). With an
 * audit trail, /readyz also reports it (`audit: {writable, error?, pending, dropped}`) and is 503 while it
 * cannot be written (full disk): security events would otherwise be lost unseen.
 */
export function healthRoutes(
  minter: Pick<CustomTokenMinter, 'isReady'>,
  store: Pick<SharedStore, 'ping' | 'backend'>,
  audit?: { status(): AuditStatus },
): Router {
  const router = strictRouter();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const storeState = { backend: store.backend, reachable: await store.ping() };
    const auditState = audit?.status();
    // Not the file's path or the line count: /readyz answers anyone who can reach it.
    const extra =
      auditState === undefined
        ? {}
        : { audit: { writable: auditState.writable, ...(auditState.error ? { error: auditState.error } : {}), pending: auditState.pending, dropped: auditState.dropped } };
    if (!minter.isReady()) {
      res.status(503).json({ status: 'not_ready', reason: 'no signing key loaded', store: storeState, ...extra });
      return;
    }
    if (!storeState.reachable) {
      res.status(503).json({ status: 'not_ready', reason: 'shared store unreachable', store: storeState, ...extra });
      return;
    }
    if (auditState !== undefined && !auditState.writable) {
      res.status(503).json({ status: 'not_ready', reason: 'audit log cannot be written', store: storeState, ...extra });
      return;
    }
    res.json({ status: 'ready', store: storeState, ...extra });
  });
  router.all('/healthz', methodNotAllowed('GET'));
  router.all('/readyz', methodNotAllowed('GET'));
  return router;
}
