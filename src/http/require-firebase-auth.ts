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
  const accept = (req: Request, res: Response, next: NextFunction, user: FirebaseUser) => {
    req.firebaseUser = user;
    res.locals.firebaseUser = user;
    next();
  };
  const verifyThenAccept = async (req: Request, res: Response, next: NextFunction, token: string) => {
    let user: FirebaseUser;
    try {
      user = await options.verifier.verify(token);
    } catch (err) {
      sendError(res, err, { logger, realm });
      return;
    }
    accept(req, res, next, user);
  };
  // Not an async function: a cache hit (a client repeats its ID token for up to an hour) is answered without
  // a promise or a microtask; everything else takes the async path.
  return (req: Request, res: Response, next: NextFunction): void | Promise<void> => {
    let token: string;
    let hit: FirebaseUser | undefined;
    try {
      token = bearerToken(req.headers.authorization);
      hit = options.verifier.peek?.(token);
    } catch (err) {
      sendError(res, err, { logger, realm });
      return;
    }
    if (hit !== undefined) {
      accept(req, res, next, hit);
      return;
    }
    // Returned, so express 5 handles a rejection as it does for any async middleware.
    return verifyThenAccept(req, res, next, token);
  };
}
