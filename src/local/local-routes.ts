import type { Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import { FirebridgeError, InvalidRequestError } from '../errors';
import { methodNotAllowed, strictRouter } from '../http/routing';
import type { LocalFcm } from './local-fcm';
import type { LocalGoogle, LocalIdTokenRequest } from './local-google';

/** Path of the Auth Emulator's REST call, so a client SDK using connectAuthEmulator can sign in. */
export const SIGN_IN_WITH_CUSTOM_TOKEN_PATH = '/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken';
export const LOCAL_ID_TOKEN_PATH = '/local/google/id-token';
/** What local mode's fake FCM received, newest last. */
export const LOCAL_FCM_MESSAGES_PATH = '/local/fcm/messages';

function optionalString(body: Record<string, unknown>, field: string, max: number): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || value.length > max) {
    throw new InvalidRequestError(`"${field}" must be a non-empty string of at most ${max} characters`);
  }
  return value;
}

function readIdTokenRequest(body: unknown): LocalIdTokenRequest {
  const record = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const emailVerified = record.email_verified;
  if (emailVerified !== undefined && typeof emailVerified !== 'boolean') {
    throw new InvalidRequestError('"email_verified" must be a boolean');
  }
  const sub = optionalString(record, 'sub', 255);
  if (sub !== undefined && !/^[\x21-\x7e]+$/.test(sub)) throw new InvalidRequestError('"sub" must be printable ASCII');
  return {
    email: optionalString(record, 'email', 254),
    name: optionalString(record, 'name', 200),
    nonce: optionalString(record, 'nonce', 512),
    sub,
    emailVerified,
  };
}

/** Google's REST error shape, as the client SDKs expect it from Identity Toolkit. */
function googleError(res: Response, err: unknown, logger: Logger): void {
  if (err instanceof FirebridgeError && err.status < 500) {
    res.status(400).json({
      error: { code: 400, message: `INVALID_CUSTOM_TOKEN : ${err.message}`, status: 'INVALID_ARGUMENT' },
    });
    return;
  }
  logger.error({ err: (err as Error)?.message }, 'local signInWithCustomToken failed');
  res.status(500).json({ error: { code: 500, message: 'INTERNAL', status: 'INTERNAL' } });
}

/** Routes that exist only in local mode. */
export function localRoutes(local: LocalGoogle, logger: Logger, fcm?: LocalFcm): Router {
  const router = strictRouter();
  // The `:` is literal, not a route parameter (unescaped, `accounts<anything>` would match).
  const signInRoute = SIGN_IN_WITH_CUSTOM_TOKEN_PATH.replace(':', '\\:');
  router.post(LOCAL_ID_TOKEN_PATH, async (req: Request, res: Response) => {
    const idToken = await local.mintGoogleIdToken(readIdTokenRequest(req.body));
    res.json({ idToken, expiresIn: 3600 });
  });
  router.post(signInRoute, async (req: Request, res: Response) => {
    try {
      const token = (req.body as Record<string, unknown> | undefined)?.token;
      if (typeof token !== 'string') throw new InvalidRequestError('"token" is required');
      res.json(await local.signInWithCustomToken(token));
    } catch (err) {
      googleError(res, err, logger);
    }
  });
  if (fcm) {
    router.get(LOCAL_FCM_MESSAGES_PATH, (_req: Request, res: Response) => {
      res.json({ messages: fcm.messages() });
    });
    router.all(LOCAL_FCM_MESSAGES_PATH, methodNotAllowed('GET'));
  }
  router.all(LOCAL_ID_TOKEN_PATH, methodNotAllowed('POST'));
  router.all(signInRoute, methodNotAllowed('POST'));
  return router;
}
