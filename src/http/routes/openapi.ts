import type { Router } from 'express';
import { openApiDocument } from '../openapi';
import { methodNotAllowed, strictRouter } from '../routing';

export const OPENAPI_PATH = '/openapi.json';

/** GET /openapi.json: the OpenAPI 3.1 description of every route (src/http/openapi.ts), serialized once. */
export function openApiRoutes(): Router {
  const router = strictRouter();
  const body = JSON.stringify(openApiDocument());
  router.get(OPENAPI_PATH, (_req, res) => {
    res.type('application/json').send(body);
  });
  router.all(OPENAPI_PATH, methodNotAllowed('GET'));
  return router;
}
