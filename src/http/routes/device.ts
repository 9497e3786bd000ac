import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { Logger } from 'pino';
import {
  CHALLENGE_ID_PATTERN,
  CODE_PATTERN,
  type DeviceCodes,
  FCM_TOKEN_PATTERN,
} from '../../auth/device-codes';
import type { FirebaseTokenVerifier } from '../../auth/firebase-token-verifier';
import { type AuditTrail, auditFailure } from '../../audit/audit-trail';
import {
  DependencyUnavailableError,
  DeviceUnregisteredError,
  type FirebridgeError,
  InvalidRequestError,
  PushFailedError,
  RateLimitedError,
} from '../../errors';
import { bearerToken } from '../bearer';
import { methodNotAllowed, strictRouter } from '../routing';
import { DEFAULT_REALM, sendError } from '../send-error';

export interface DeviceRouteDeps {
  device: Pick<DeviceCodes, 'challenge' | 'verify'>;
  /** The bridge's Firebase ID token verifier: a token in Authorization ties the challenge to its user. */
  firebaseVerifier: FirebaseTokenVerifier;
  /** Per-IP limit of challenges and verifies together (RATE_LIMIT_DEVICE_IP_PER_MINUTE). */
  limit: RequestHandler;
  logger: Logger;
  /** Every verify (a device sign-in) is recorded: uid, IP, outcome, reason code. */
  audit?: AuditTrail;
}

/** When FCM did not say how long to wait (quota). */
const DEFAULT_PUSH_RETRY_AFTER_SECONDS = 60;

/**
 * What a failed push of a device code answers (the errors the edge maps, src/http/send-error.ts):
 * `unregistered` 404; `invalid_argument` and `sender_id_mismatch` 400 invalid_request (the token is not a
 * device of this project); `quota_exceeded` 429 with Retry-After; `unavailable` and `third_party_auth_error`
 * (FCM cannot reach Apple's service) 503.
 */
export function devicePushError(err: PushFailedError): FirebridgeError {
  switch (err.reason) {
    case 'unregistered':
      return new DeviceUnregisteredError('the device token is no longer registered; get a new one from the app');
    case 'invalid_argument':
      return new InvalidRequestError('"fcmToken" is not a valid FCM registration token');
    case 'sender_id_mismatch':
      return new InvalidRequestError('"fcmToken" belongs to another Firebase project');
    case 'quota_exceeded': {
      const retryAfter = Math.max(1, Math.ceil(err.retryAfterSeconds ?? DEFAULT_PUSH_RETRY_AFTER_SECONDS));
      return new RateLimitedError(`too many pushes; retry in ${retryAfter} s`, retryAfter);
    }
    case 'unavailable':
    case 'third_party_auth_error':
      return new DependencyUnavailableError(`FCM could not deliver the code (${err.reason})`);
  }
}

function bodyObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError('the body must be a JSON object (Content-Type: application/json)');
  }
  return body as Record<string, unknown>;
}

function field(body: Record<string, unknown>, name: string, pattern: RegExp, shape: string): string {
  const value = body[name];
  if (value === undefined) throw new InvalidRequestError(`"${name}" is required`);
  if (typeof value !== 'string' || !pattern.test(value)) throw new InvalidRequestError(`"${name}" must be ${shape}`);
  return value;
}

export function readChallengeRequest(body: unknown): { fcmToken: string } {
  return { fcmToken: field(bodyObject(body), 'fcmToken', FCM_TOKEN_PATTERN, 'an FCM registration token') };
}

export function readVerifyRequest(body: unknown): { challengeId: string; code: string } {
  const object = bodyObject(body);
  return {
    challengeId: field(object, 'challengeId', CHALLENGE_ID_PATTERN, 'the challengeId POST /v1/device/challenge returned'),
    code: field(object, 'code', CODE_PATTERN, 'a string of 6 digits'),
  };
}

/**
 * No Authorization header: anonymous (the device's own uid). A header: it must be a valid Firebase ID token
 * (refused RFC 6750 style otherwise), and its user is the requester.
 */
function optionalFirebaseAuth(verifier: FirebaseTokenVerifier, logger: Logger): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (req.headers.authorization === undefined) {
      next();
      return;
    }
    try {
      const token = bearerToken(req.headers.authorization);
      req.firebaseUser = verifier.peek?.(token) ?? (await verifier.verify(token));
    } catch (err) {
      sendError(res, err, { logger, realm: DEFAULT_REALM });
      return;
    }
    next();
  };
}

/** POST /v1/device/challenge and POST /v1/device/verify: device sign-in with a pushed one-time code. */
export function deviceRoutes(deps: DeviceRouteDeps): Router {
  const router = strictRouter();
  const auth = optionalFirebaseAuth(deps.firebaseVerifier, deps.logger);
  router.post('/v1/device/challenge', deps.limit, auth, async (req, res) => {
    const { fcmToken } = readChallengeRequest(req.body);
    try {
      res.status(202).json(await deps.device.challenge(fcmToken, req.firebaseUser?.uid));
    } catch (err) {
      throw err instanceof PushFailedError ? devicePushError(err) : err;
    }
  });
  router.all('/v1/device/challenge', methodNotAllowed('POST'));
  router.post('/v1/device/verify', deps.limit, auth, async (req, res) => {
    const { challengeId, code } = readVerifyRequest(req.body);
    const requester = req.firebaseUser?.uid;
    let verified;
    try {
      verified = await deps.device.verify(challengeId, code, requester);
    } catch (err) {
      deps.audit?.record({ event: 'device.sign_in', ...auditFailure(err), requesterUid: requester, ip: req.ip });
      throw err;
    }
    deps.audit?.record({ event: 'device.sign_in', outcome: 'ok', uid: verified.uid, requesterUid: requester, ip: req.ip });
    res.json(verified);
  });
  router.all('/v1/device/verify', methodNotAllowed('POST'));
  return router;
}
