import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeIam } from './fake-iam';
import { type LoopbackServer, listenOnLoopback, readBody } from './loopback-server';

export const FCM_SCOPE_FOR_TESTS = 'https://www.googleapis.com/auth/firebase.messaging';

/** What the fake answers to the next sends, in order (then it accepts). */
export type FcmFault =
  | 'UNREGISTERED'
  | 'INVALID_ARGUMENT'
  | 'SENDER_ID_MISMATCH'
  | 'THIRD_PARTY_AUTH_ERROR'
  | 'UNAUTHENTICATED'
  | 'INTERNAL'
  | { status: 429; retryAfter?: string }
  | { status: 500 | 502 | 503 };

export interface FcmRequest {
  path: string;
  authorization?: string;
  body: Record<string, unknown> | undefined;
  /** What the fake answered. */
  status: number;
}

/**
 * A fake of FCM HTTP v1 on 127.0.0.1, written from FCM's reference, independent of the client:
 * POST /v1/projects/{project}/messages:send with a Bearer token the fake IAM issued for the
 * firebase.messaging scope (else 401 UNAUTHENTICATED, as FCM answers a bad or revoked token);
 * a body {message, validate_only?} whose message has exactly one of token/topic/condition (else
 * 400 INVALID_ARGUMENT). Errors in FCM's shape: google.rpc status plus an FcmError errorCode.
 * `faults` scripts the next answers; every request is recorded; `accepted` lists delivered messages.
 */
export class FakeFcm {
  readonly requests: FcmRequest[] = [];
  readonly accepted: Array<{ name: string; message: Record<string, unknown>; validateOnly: boolean }> = [];
  /** Answered to the next sends, one each, before any is accepted. */
  readonly faults: FcmFault[] = [];
  /** Device tokens FCM no longer knows (UNREGISTERED whenever sent to). */
  readonly unregistered = new Set<string>();
  /** Access tokens revoked early: refused with 401 although the IAM issued them. */
  readonly revokedTokens = new Set<string>();
  /** Milliseconds each answer is delayed (a slow FCM). */
  delayMs = 0;

  private constructor(
    private readonly loopback: LoopbackServer,
    readonly url: string,
    private readonly iam: FakeIam,
    readonly projectId: string,
  ) {}

  static async start(iam: FakeIam, projectId: string): Promise<FakeFcm> {
    let fake: FakeFcm | undefined;
    const loopback = await listenOnLoopback((req, res) => {
      void fake?.handle(req, res);
    });
    fake = new FakeFcm(loopback, loopback.url, iam, projectId);
    return fake;
  }

  /** Sends that reached the fake (every attempt, retries included). */
  get sendCount(): number {
    return this.requests.length;
  }

  close(): Promise<void> {
    return this.loopback.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    const path = new URL(req.url ?? '/', this.url).pathname;
    const record: FcmRequest = { path, authorization: req.headers.authorization, body, status: 0 };
    this.requests.push(record);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs).unref());
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers }).end(JSON.stringify(payload));
    };
    const expected = `/v1/projects/${this.projectId}/messages:send`;
    if (req.method !== 'POST' || path !== expected) return answer(404, rpcError(404, 'NOT_FOUND', 'Requested entity was not found.'));
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !this.iam.issuedTokens.includes(bearer) || this.revokedTokens.has(bearer)) {
      return answer(401, rpcError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token.'));
    }
    if (!this.iam.hasScope(bearer, FCM_SCOPE_FOR_TESTS)) {
      return answer(403, rpcError(403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.'));
    }
    const fault = this.faults.shift();
    if (fault !== undefined) return this.fault(fault, answer);
    const message = body?.message as Record<string, unknown> | undefined;
    const targets = message ? ['token', 'topic', 'condition'].filter((t) => typeof message[t] === 'string') : [];
    if (!message || targets.length !== 1) {
      return answer(400, fcmError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.', 'INVALID_ARGUMENT'));
    }
    if (typeof message.token === 'string' && this.unregistered.has(message.token)) return this.fault('UNREGISTERED', answer);
    const validateOnly = body?.validate_only === true;
    const name = `projects/${this.projectId}/messages/${validateOnly ? 'fake_message_id' : `0:${Date.now()}%${randomBytes(8).toString('hex')}`}`;
    this.accepted.push({ name, message, validateOnly });
    answer(200, { name });
  }

  private fault(fault: FcmFault, answer: (status: number, payload: unknown, headers?: Record<string, string>) => void): void {
    switch (fault) {
      case 'UNREGISTERED':
        return answer(404, fcmError(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED'));
      case 'INVALID_ARGUMENT':
        return answer(400, fcmError(400, 'INVALID_ARGUMENT', 'The registration token is not a valid FCM registration token', 'INVALID_ARGUMENT'));
      case 'SENDER_ID_MISMATCH':
        return answer(403, fcmError(403, 'PERMISSION_DENIED', 'SenderId mismatch', 'SENDER_ID_MISMATCH'));
      case 'THIRD_PARTY_AUTH_ERROR':
        return answer(401, fcmError(401, 'UNAUTHENTICATED', 'Auth error from APNS or Web Push Service', 'THIRD_PARTY_AUTH_ERROR'));
      case 'UNAUTHENTICATED':
        return answer(401, rpcError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'));
      case 'INTERNAL':
        return answer(500, fcmError(500, 'INTERNAL', 'Internal error encountered.', 'INTERNAL'));
      default:
        if (fault.status === 429) {
          return answer(429, fcmError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.', 'QUOTA_EXCEEDED'), fault.retryAfter ? { 'retry-after': fault.retryAfter } : {});
        }
        return answer(fault.status, fcmError(fault.status, 'UNAVAILABLE', 'The service is currently unavailable.', 'UNAVAILABLE'));
    }
  }
}

function rpcError(code: number, status: string, message: string): unknown {
  return { error: { code, message, status } };
}

function fcmError(code: number, status: string, message: string, errorCode: string): unknown {
  return { error: { code, message, status, details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] } };
}

