import type { Logger } from 'pino';
import type { PushMessage, PushSender } from '../auth/push-sender';
import type { Clock } from '../clock';
import { FirebridgeError, GoogleApiError, PushFailedError, type PushFailureReason, ResponseTooLargeError } from '../errors';
import { type FetchFn, withoutRedirects } from '../outbound/fetch';
import { readTextCapped } from '../outbound/read-capped';
import type { AccessTokenSource } from './access-token';
import { MAX_GOOGLE_RESPONSE_BYTES } from './client';

/** The OAuth 2.0 scope FCM HTTP v1 requires. */
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

export interface FcmClientOptions {
  /** Access tokens for FCM_SCOPE; `invalidate` lets a 401 UNAUTHENTICATED drop the cached one. */
  tokens: AccessTokenSource;
  fetch: FetchFn;
  clock: Clock;
  /** FIREBASE_PROJECT_ID. */
  projectId: string;
  /** FCM_API_URL, without a trailing slash. */
  baseUrl: string;
  /** FCM_MAX_RETRIES: most retries of one send (transient failures only). */
  maxRetries: number;
  /** FCM_TIMEOUT_MS: one deadline for a send: its token, every attempt, every wait. */
  timeoutMs: number;
  logger?: Pick<Logger, 'warn' | 'error'>;
  /** Base of the exponential back-off (full jitter): attempt n waits up to base * 2^n. */
  baseDelayMs?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** How one FCM answer is handled. */
type Verdict =
  | { kind: 'fail'; reason: PushFailureReason; detail: string; retryAfterSeconds?: number }
  | { kind: 'retry'; reason: 'quota_exceeded' | 'unavailable'; detail: string; retryAfterMs?: number }
  | { kind: 'refresh-token'; detail: string };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** FCM's `error.details[].errorCode` (google.firebase.fcm.v1.FcmError, or any detail that carries one). */
export function fcmErrorCode(body: unknown): string | undefined {
  const error = (body as { error?: { details?: unknown } } | undefined)?.error;
  const details = Array.isArray(error?.details) ? (error.details as unknown[]) : [];
  const codes = details
    .map((d) => (typeof d === 'object' && d !== null ? (d as Record<string, unknown>) : {}))
    .filter((d) => typeof d.errorCode === 'string')
    .sort((a, b) => Number(String(b['@type']).endsWith('FcmError')) - Number(String(a['@type']).endsWith('FcmError')));
  return codes[0]?.errorCode as string | undefined;
}

/** `error.status` (the google.rpc code name), for answers without an FCM error code. */
function rpcStatus(body: unknown): string | undefined {
  const status = (body as { error?: { status?: unknown } } | undefined)?.error?.status;
  return typeof status === 'string' ? status : undefined;
}

/** FCM's message, short and on one line (it never echoes the access token; it may name a field). */
function fcmMessage(body: unknown): string {
  const message = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
  return typeof message === 'string' && message !== '' ? `: ${message.replace(/\s+/g, ' ').slice(0, 200)}` : '';
}

/** Retry-After in milliseconds: delay-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Classifies one non-2xx FCM answer (https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode). */
export function classifyFcmError(status: number, body: unknown, retryAfter: number | undefined): Verdict {
  const code = fcmErrorCode(body) ?? rpcStatus(body);
  const detail = `FCM HTTP ${status}${code ? ` ${code}` : ''}${fcmMessage(body)}`;
  switch (code) {
    case 'UNREGISTERED':
      return { kind: 'fail', reason: 'unregistered', detail };
    case 'INVALID_ARGUMENT':
      return { kind: 'fail', reason: 'invalid_argument', detail };
    case 'SENDER_ID_MISMATCH':
      return { kind: 'fail', reason: 'sender_id_mismatch', detail };
    // The APNs / web-push credentials in the Firebase console: a configuration fault (FCM answers 401).
    case 'THIRD_PARTY_AUTH_ERROR':
      return { kind: 'fail', reason: 'third_party_auth_error', detail };
    case 'QUOTA_EXCEEDED':
    case 'RESOURCE_EXHAUSTED':
      return { kind: 'retry', reason: 'quota_exceeded', detail, retryAfterMs: retryAfter };
    case 'UNAVAILABLE':
    case 'INTERNAL':
      return { kind: 'retry', reason: 'unavailable', detail, retryAfterMs: retryAfter };
    default:
      break;
  }
  if (status === 401) return { kind: 'refresh-token', detail };
  if (status === 429) return { kind: 'retry', reason: 'quota_exceeded', detail, retryAfterMs: retryAfter };
  if (status >= 500) return { kind: 'retry', reason: 'unavailable', detail, retryAfterMs: retryAfter };
  if (status === 400) return { kind: 'fail', reason: 'invalid_argument', detail };
  // 403 PERMISSION_DENIED (the account may not send for the project), 404 of the project: the bridge's setup.
  return { kind: 'fail', reason: 'unavailable', detail };
}

/**
 * FCM HTTP v1 (`POST {FCM_API_URL}/v1/projects/{project}/messages:send`), the PushSender of a
 * configured server. Authorized with an access token for FCM_SCOPE from the injected source (the
 * signing service account, or ADC), which caches it and shares one refresh among concurrent sends.
 *
 * Its own retry policy, under one deadline (FCM_TIMEOUT_MS) covering the token, every attempt and
 * every wait: QUOTA_EXCEEDED / 429, UNAVAILABLE, INTERNAL, 5xx and network failures are retried at
 * most FCM_MAX_RETRIES times with exponential back-off and full jitter, never sooner than FCM's
 * Retry-After (and not at all when that is past the deadline); UNREGISTERED, INVALID_ARGUMENT,
 * SENDER_ID_MISMATCH and THIRD_PARTY_AUTH_ERROR never. A 401 UNAUTHENTICATED drops the cached token
 * and is retried once with a fresh one. Failures are PushFailedError; none carries the device token
 * or the message.
 */
export class FcmClient implements PushSender {
  private readonly url: string;

  constructor(private readonly options: FcmClientOptions) {
    this.url = `${options.baseUrl}/v1/projects/${encodeURIComponent(options.projectId)}/messages:send`;
  }

  async send(message: PushMessage, sendOptions: { validateOnly?: boolean } = {}): Promise<{ name: string }> {
    const { timeoutMs, maxRetries } = this.options;
    const sleep = this.options.sleep ?? defaultSleep;
    const random = this.options.random ?? Math.random;
    const baseDelayMs = this.options.baseDelayMs ?? 500;
    const started = performance.now();
    const remainingMs = () => Math.floor(timeoutMs - (performance.now() - started));
    const body = JSON.stringify(sendOptions.validateOnly ? { message, validate_only: true } : { message });
    let retries = 0;
    let refreshed = false;
    for (;;) {
      const verdict = await this.attempt(body, remainingMs);
      if ('name' in verdict) return verdict;
      if (verdict.kind === 'fail') throw this.failure(verdict.reason, verdict.detail, verdict.retryAfterSeconds);
      if (verdict.kind === 'refresh-token') {
        if (refreshed) throw this.failure('unavailable', `${verdict.detail} (again, with a fresh access token)`);
        refreshed = true;
        this.options.tokens.invalidate?.(verdict.token);
        continue;
      }
      const afterSeconds = verdict.retryAfterMs === undefined ? undefined : Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
      if (retries >= maxRetries) throw this.failure(verdict.reason, `${verdict.detail} (after ${retries} retries)`, afterSeconds);
      const backoff = Math.floor(random() * baseDelayMs * 2 ** retries);
      const wait = Math.max(backoff, verdict.retryAfterMs ?? 0);
      if (wait >= remainingMs()) throw this.failure(verdict.reason, `${verdict.detail} (no time left to retry within ${timeoutMs} ms)`, afterSeconds);
      retries += 1;
      this.options.logger?.warn({ reason: verdict.reason, retry: retries, waitMs: wait }, 'FCM send failed; retrying');
      await sleep(wait);
    }
  }

  private failure(reason: PushFailureReason, detail: string, retryAfterSeconds?: number): PushFailedError {
    if (reason === 'third_party_auth_error') {
      this.options.logger?.error({ reason }, `FCM refused the APNs or web-push credentials in the Firebase console: fix them there (${detail})`);
    } else if (reason === 'unavailable') {
      this.options.logger?.error({ reason }, `FCM send failed: ${detail}`);
    }
    return new PushFailedError(detail, reason, retryAfterSeconds);
  }

  /** One request: FCM's name for the message, or what to do about the failure. */
  private async attempt(
    body: string,
    remainingMs: () => number,
  ): Promise<{ name: string } | Exclude<Verdict, { kind: 'refresh-token' }> | { kind: 'refresh-token'; detail: string; token: string }> {
    const { timeoutMs, fetch: fetchFn, tokens, clock } = this.options;
    const timedOut = { kind: 'fail', reason: 'unavailable', detail: `FCM send: timed out after ${timeoutMs} ms` } as const;
    let budget = remainingMs();
    if (budget <= 0) return timedOut;
    let token: string;
    try {
      token = await withDeadline(tokens.getAccessToken(), budget);
    } catch (err) {
      if (err === DEADLINE) return timedOut;
      // The token endpoint's own failure (its message names the endpoint, never the assertion). Not answered, 429 or
      // 5xx: transient, retried like FCM's own; any other answer (invalid_grant, a missing key): the setup's fault.
      const status = err instanceof GoogleApiError ? err.httpStatus : undefined;
      const detail = `FCM access token: ${err instanceof FirebridgeError ? err.message : 'request failed'}`;
      if (err instanceof GoogleApiError && (status === undefined || status === 429 || status >= 500)) {
        return { kind: 'retry', reason: 'unavailable', detail };
      }
      return { kind: 'fail', reason: 'unavailable', detail };
    }
    budget = remainingMs();
    if (budget <= 0) return timedOut;
    const signal = AbortSignal.timeout(budget);
    let response: Response;
    let text: string;
    try {
      response = await fetchFn(
        this.url,
        withoutRedirects({ method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body, signal }),
      );
      text = await readTextCapped(response, MAX_GOOGLE_RESPONSE_BYTES);
    } catch (err) {
      if (signal.aborted) return timedOut;
      if (err instanceof ResponseTooLargeError) return { kind: 'fail', reason: 'unavailable', detail: 'FCM send: response too large' };
      // Not answered (connection refused or reset): transient, retried like a 503.
      return { kind: 'retry', reason: 'unavailable', detail: `FCM send: request to ${new URL(this.url).origin} failed` };
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (response.ok) {
      const name = (parsed as { name?: unknown } | undefined)?.name;
      if (typeof name !== 'string' || name === '') return { kind: 'fail', reason: 'unavailable', detail: 'FCM send: answered without a message name' };
      return { name };
    }
    const verdict = classifyFcmError(response.status, parsed, retryAfterMs(response.headers.get('retry-after'), clock()));
    return verdict.kind === 'refresh-token' ? { ...verdict, token } : verdict;
  }
}

const DEADLINE = Symbol('deadline');

/** The promise's outcome, or a rejection with DEADLINE once `ms` pass (the promise runs on, shared with other sends). */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(DEADLINE), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
