import express, { type Express, type NextFunction, type Request, type Response, type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { GoogleIdTokenVerifier } from '../auth/google-id-token-verifier';
import type { CustomTokenSigner } from '../auth/signer';
import type { Config } from '../config';
import { type FirebaseTokenVerifier, requireFirebaseAuth } from './require-firebase-auth';
import { requestLogger } from './request-logger';
import { healthRoutes } from './routes/health';
import { meRoutes } from './routes/me';
import { tokenRoutes } from './routes/token';
import { DEFAULT_REALM, sendError } from './send-error';

export interface AppDeps {
  logger: Logger;
  googleVerifier: Pick<GoogleIdTokenVerifier, 'verify'>;
  firebaseVerifier: FirebaseTokenVerifier;
  signer: CustomTokenSigner;
  /** Extra routes mounted before the 404 handler (local mode's emulated Google). */
  extraRoutes?: Router;
}

/** A fresh express app: no module-level state, everything comes from config and deps. */
export function createApp(config: Pick<Config, 'maxBodyBytes'>, deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(helmet());
  app.use(requestLogger(deps.logger));
  app.use((_req, res, next) => {
    // Tokens must never be cached by a proxy or browser (RFC 6749 §5.1).
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use(express.json({ limit: config.maxBodyBytes, strict: true }));

  const requireAuth = requireFirebaseAuth({ verifier: deps.firebaseVerifier, realm: DEFAULT_REALM, logger: deps.logger });
  app.use(healthRoutes(deps.signer));
  app.use(tokenRoutes(deps));
  app.use(meRoutes(requireAuth));
  if (deps.extraRoutes) app.use(deps.extraRoutes);

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not_found', error_description: 'no such route' });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    sendError(res, err, { logger: deps.logger });
  });
  return app;
}
