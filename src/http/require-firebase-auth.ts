import type { NextFunction, Request, RequestHandler, Response } from 'express';
import pino, { type Logger } from 'pino';
import type { FirebaseTokenVerifier, FirebaseUser } from '../auth/firebase-token-verifier';
import { bearerToken } from './bearer';
import { DEFAULT_REALM, sendError } from './send-error';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by requireFirebaseAuth once the bearer Firebase ID token verified. */
      firebaseUser?: FirebaseUser;
    }
  }
}

export interface RequireFirebaseAuthOptions {
  verifier: FirebaseTokenVerifier;
  /** WWW-Authenticate realm; default "firebridge". */
  realm?: string;
  logger?: Logger;
}

/**
 * Express middleware for your own routes: reads `Authorization: Bearer <Firebase ID token>`,
 * verifies it, and puts the user on `req.firebaseUser` (and `res.locals.firebaseUser`).
 * Refusals are answered here, RFC 6750 style: 401 with `WWW-Authenticate: Bearer realm=...`
 * (plus error and error_description when a token was presented), 503 when keys are unavailable.
 */
export function requireFirebaseAuth(options: RequireFirebaseAuthOptions): RequestHandler {
  const realm = options.realm ?? DEFAULT_REALM;
  const logger = options.logger ?? pino({ level: 'silent' });
  return async (req: Request, res: Response, next: NextFunction) => {
    let user: FirebaseUser | undefined;
    try {
      const token = bearerToken(req.headers.authorization);
      // A client repeats its ID token for up to an hour: answer cache hits without a promise.
      user = options.verifier.peek?.(token) ?? (await options.verifier.verify(token));
    } catch (err) {
      sendError(res, err, { logger, realm });
      return;
    }
    req.firebaseUser = user;
    res.locals.firebaseUser = user;
    next();
  };
}
