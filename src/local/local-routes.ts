import type { Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import { InvalidRequestError } from '../errors';
import { methodNotAllowed, strictRouter } from '../http/routing';
import { emulatorRoutes } from './local-emulator-routes';
import type { LocalFcm } from './local-fcm';
import type { LocalGoogle, LocalIdTokenRequest } from './local-google';
import type { LocalIdentityToolkit } from './local-identity-toolkit';
import { keySetRoutes } from './local-key-set-routes';

export { EMULATOR_PATHS, SIGN_IN_WITH_CUSTOM_TOKEN_PATH } from './local-emulator-routes';
export { KEY_SET_PATHS } from './local-key-set-routes';
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

export interface LocalRouteDeps {
  google: LocalGoogle;
  toolkit: LocalIdentityToolkit;
  logger: Logger;
  maxBodyBytes: number;
  fcm?: LocalFcm;
}

/** Routes that exist only in local mode: its test "Google", its key sets, the Auth Emulator's REST calls, the fake FCM's record. */
export function localRoutes(deps: LocalRouteDeps): Router {
  const { google: local, fcm } = deps;
  const router = strictRouter();
  router.post(LOCAL_ID_TOKEN_PATH, async (req: Request, res: Response) => {
    const idToken = await local.mintGoogleIdToken(readIdTokenRequest(req.body));
    res.json({ idToken, expiresIn: 3600 });
  });
  router.all(LOCAL_ID_TOKEN_PATH, methodNotAllowed('POST'));
  router.use(keySetRoutes(local));
  router.use(emulatorRoutes(deps.toolkit, { logger: deps.logger, maxBodyBytes: deps.maxBodyBytes }));
  if (fcm) {
    router.get(LOCAL_FCM_MESSAGES_PATH, (_req: Request, res: Response) => {
      res.json({ messages: fcm.messages() });
    });
    router.all(LOCAL_FCM_MESSAGES_PATH, methodNotAllowed('GET'));
  }
  return router;
}
