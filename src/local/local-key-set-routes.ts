import type { Request, Response, Router } from 'express';
import { methodNotAllowed, strictRouter } from '../http/routing';
import type { LocalGoogle } from './local-google';
import {
  GOOGLE_JWKS_PATH,
  GOOGLE_PEM_CERTS_PATH,
  KEY_SET_MAX_AGE_SECONDS,
  SECURETOKEN_JWKS_PATH,
  SECURETOKEN_X509_PATH,
  jwks,
  x509Map,
} from './local-key-sets';

/**
 * Local mode's public keys where verifiers look for Google's: its Google ID tokens' keys as a JWKS and as a
 * certificate map, its Firebase ID tokens' keys as the securetoken certificate map and JWKS. Cacheable (max-age).
 */
export function keySetRoutes(google: LocalGoogle): Router {
  const router = strictRouter();
  const keys = google.publicKeys();
  const documents: Array<[string, unknown]> = [
    [GOOGLE_JWKS_PATH, jwks([keys.google])],
    [GOOGLE_PEM_CERTS_PATH, x509Map([keys.google])],
    [SECURETOKEN_X509_PATH, x509Map([keys.securetoken])],
    [SECURETOKEN_JWKS_PATH, jwks([keys.securetoken])],
  ];
  for (const [path, document] of documents) {
    router.get(path, (_req: Request, res: Response) => {
      res.setHeader('Cache-Control', `public, max-age=${KEY_SET_MAX_AGE_SECONDS}, must-revalidate, no-transform`);
      res.json(document);
    });
    router.all(path, methodNotAllowed('GET'));
  }
  return router;
}

export const KEY_SET_PATHS = [GOOGLE_JWKS_PATH, GOOGLE_PEM_CERTS_PATH, SECURETOKEN_X509_PATH, SECURETOKEN_JWKS_PATH] as const;
