import type { Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import { validatePushMessage } from '../../auth/push-message';
import type { PushSender } from '../../auth/push-sender';
import { InvalidRequestError, PushFailedError } from '../../errors';
import type { SharedStore } from '../../store/store';
import { requestLog } from '../request-logger';
import { methodNotAllowed, strictRouter } from '../routing';
import { SECRET_AUTH_FAILURES_PER_MINUTE, sharedSecretAuth } from '../shared-secret-auth';

export interface PushRelayDeps {
  /** PUSH_API_TOKEN. */
  token: string;
  /** FCM HTTP v1 (the bridge's service account). */
  sender: PushSender;
  logger: Logger;
  /** Counts failed relay authentications per client IP (shared by instances through Redis). */
  store: Pick<SharedStore, 'hit' | 'take'>;
}

export const PUSH_SEND_ROUTE = '/v1/push/send';
const PUSH_REALM = 'firebridge-push';
/** Failed relay authentications one client IP (IPv6: one /64) may make per minute. */
export const PUSH_AUTH_FAILURES_PER_MINUTE = SECRET_AUTH_FAILURES_PER_MINUTE;
/** Retry-After of a 429 when FCM named none. */
const DEFAULT_QUOTA_RETRY_SECONDS = 60;

/** The request body: {"message": {...}, "validateOnly"?: boolean}; nothing else. */
function readBody(body: unknown): { message: Record<string, unknown>; validateOnly: boolean } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError('the body must be a JSON object {"message": {...}}');
  }
  const record = body as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== 'message' && key !== 'validateOnly') throw new InvalidRequestError(`"${key}" is not a field of a push request (message, validateOnly)`);
  }
  if (record.validateOnly !== undefined && typeof record.validateOnly !== 'boolean') {
    throw new InvalidRequestError('"validateOnly" must be a boolean');
  }
  return { message: validatePushMessage(record.message), validateOnly: record.validateOnly === true };
}

/**
 * The push relay, mounted only when PUSH_API_TOKEN is set: POST /v1/push/send {"message": <FCM v1
 * Message>, "validateOnly"?} sends it with the bridge's FCM client, for backends that cannot do
 * Google's OAuth2. `Authorization: Bearer <PUSH_API_TOKEN>`, compared in constant time; failed
 * authentications are throttled per client IP as on the admin API (counted before the credential
 * is looked at; past the limit a right guess looks like a wrong one; 503 if they cannot be counted).
 *
 * Answers: 200 {name}; 404 {"error":"unregistered"} (delete the device token); 400 invalid_argument
 * or sender_id_mismatch; 429 with Retry-After (FCM's quota, after retries); 502 fcm_unavailable.
 */
export function pushRoutes(deps: PushRelayDeps): Router {
  const router = strictRouter();
  const authenticate = sharedSecretAuth({
    name: 'push relay',
    route: PUSH_SEND_ROUTE,
    secret: deps.token,
    realm: PUSH_REALM,
    refusal: { code: 'ERR_PUSH_CREDENTIAL', description: 'not the push relay credential' },
    counterName: 'push-auth',
    store: deps.store,
    logger: deps.logger,
  });
  router.post(PUSH_SEND_ROUTE, async (req: Request, res: Response) => {
    if (!(await authenticate(req, res))) return;
    const log = requestLog(res, deps.logger);
    const { message, validateOnly } = readBody(req.body);
    const target = message.token !== undefined ? 'token' : message.topic !== undefined ? 'topic' : 'condition';
    try {
      const { name } = await deps.sender.send(message, validateOnly ? { validateOnly } : undefined);
      log.info({ route: PUSH_SEND_ROUTE, target, validateOnly, name }, 'push relayed');
      res.json({ name });
    } catch (err) {
      if (!(err instanceof PushFailedError)) throw err;
      log.info({ route: PUSH_SEND_ROUTE, target, validateOnly, reason: err.reason }, 'push not delivered');
      sendPushFailure(res, err);
    }
  });
  router.all(PUSH_SEND_ROUTE, methodNotAllowed('POST'));
  return router;
}

/** A push failure as the relay documents it (README, "Push relay"). */
function sendPushFailure(res: Response, err: PushFailedError): void {
  switch (err.reason) {
    case 'unregistered':
      res.status(404).json({ error: 'unregistered', error_description: 'FCM does not know this device token (any more): delete it' });
      return;
    case 'invalid_argument':
      res.status(400).json({ error: 'invalid_argument', error_description: `FCM refused the message: ${err.message}` });
      return;
    case 'sender_id_mismatch':
      res.status(400).json({ error: 'sender_id_mismatch', error_description: 'the device token belongs to another Firebase project' });
      return;
    case 'quota_exceeded': {
      const seconds = err.retryAfterSeconds ?? DEFAULT_QUOTA_RETRY_SECONDS;
      res.setHeader('Retry-After', String(seconds));
      res.status(429).json({ error: 'quota_exceeded', error_description: `FCM's sending quota is exhausted; retry in ${seconds} s` });
      return;
    }
    default:
      res.status(502).json({ error: 'fcm_unavailable', error_description: 'FCM could not take the message; retry later' });
  }
}
