import type { Clock } from '../clock';
import { GoogleApiError, ResponseTooLargeError } from '../errors';
import { type FetchFn, withoutRedirects } from '../outbound/fetch';
import { readTextCapped } from '../outbound/read-capped';
import { ResilientEndpoint } from '../outbound/resilient-endpoint';
import type { AccessTokenSource } from './access-token';

/** Largest answer read from a Google API. */
export const MAX_GOOGLE_RESPONSE_BYTES = 256 * 1024;

/** Google's reason in an error answer (`error.message` or `error_description`, which never echo credentials). */
export function googleReason(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const record = body as Record<string, unknown>;
  const error = record.error;
  let reason: unknown;
  if (typeof error === 'object' && error !== null) reason = (error as Record<string, unknown>).message;
  else reason = record.error_description ?? error;
  return typeof reason === 'string' && reason !== '' ? ` (${reason.replace(/\s+/g, ' ').slice(0, 200)})` : '';
}

/**
 * One JSON call with a hard timeout covering headers and body, no redirects followed, the body
 * capped while it is read. A non-2xx answer becomes a GoogleApiError carrying Google's reason;
 * the request body (assertions, refresh tokens) is never put in an error.
 */
export async function callGoogleJson(
  fetchFn: FetchFn,
  what: string,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  let text: string;
  try {
    response = await fetchFn(url, withoutRedirects({ ...init, signal }));
    text = await readTextCapped(response, MAX_GOOGLE_RESPONSE_BYTES);
  } catch (err) {
    if (err instanceof ResponseTooLargeError) throw new GoogleApiError(`${what}: response too large`);
    throw new GoogleApiError(signal.aborted ? `${what}: timed out after ${timeoutMs} ms` : `${what}: request to ${new URL(url).origin} failed`);
  }
  let body: unknown;
  try {
    body = text === '' ? {} : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    throw new GoogleApiError(`${what}: HTTP ${response.status}${googleReason(body)}`, response.status);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GoogleApiError(`${what}: the response is not a JSON object`, response.status);
  }
  return body as Record<string, unknown>;
}

export interface GoogleApiClientOptions {
  /** The access tokens calls are authorized with. */
  tokens: AccessTokenSource;
  fetch: FetchFn;
  clock: Clock;
  /** GOOGLE_API_TIMEOUT_MS: the deadline of one call, everything it waits on included (token, retries). */
  timeoutMs: number;
}

export interface GoogleCallRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** Sent as JSON. */
  body?: unknown;
  /**
   * 'idempotent' (the default): safe to repeat, so transient failures are retried with jitter
   * within the deadline. 'once': sent at most once (a create, a single-use code).
   */
  repeat?: 'idempotent' | 'once';
}

export interface GoogleApiStats {
  api: string;
  ok: number;
  failed: number;
  circuit: ResilientEndpoint['state'];
}

/**
 * The bridge's one authorized client of Google APIs: a Bearer access token from the injected
 * source, a JSON call, and per API a retry and circuit-breaker policy. One deadline covers
 * everything a call waits on (the token, every attempt, the waits between them): no retry runs
 * inside another, and a hanging endpoint costs one GOOGLE_API_TIMEOUT_MS, not a multiple.
 */
export class GoogleApiClient {
  private readonly endpoints = new Map<string, { endpoint: ResilientEndpoint; ok: number; failed: number }>();

  constructor(private readonly options: GoogleApiClientOptions) {}

  private endpointFor(api: string): { endpoint: ResilientEndpoint; ok: number; failed: number } {
    let entry = this.endpoints.get(api);
    if (!entry) {
      // api names are constants in the code, so this map holds a handful of entries.
      entry = { endpoint: new ResilientEndpoint(api, this.options.clock, 2), ok: 0, failed: 0 };
      this.endpoints.set(api, entry);
    }
    return entry;
  }

  /** One call of `api` (a fixed name: its circuit and counters), described as `what` in errors. */
  async call(api: string, what: string, url: string, request: GoogleCallRequest): Promise<Record<string, unknown>> {
    const { timeoutMs, tokens, fetch: fetchFn } = this.options;
    const entry = this.endpointFor(api);
    const started = performance.now();
    const remainingMs = () => timeoutMs - (performance.now() - started);
    const attempt = async () => {
      const budget = Math.floor(remainingMs());
      if (budget <= 0) throw new GoogleApiError(`${what}: timed out after ${timeoutMs} ms`);
      const accessToken = await withDeadline(tokens.getAccessToken(), budget, `${what}: timed out after ${timeoutMs} ms`);
      const headers: Record<string, string> = { authorization: `Bearer ${accessToken}` };
      if (request.body !== undefined) headers['content-type'] = 'application/json';
      return callGoogleJson(
        fetchFn,
        what,
        url,
        { method: request.method, headers, body: request.body === undefined ? undefined : JSON.stringify(request.body) },
        Math.max(1, Math.floor(remainingMs())),
      );
    };
    try {
      const body = await entry.endpoint.call(attempt, { remainingMs, once: request.repeat === 'once' });
      entry.ok += 1;
      return body;
    } catch (err) {
      entry.failed += 1;
      throw err;
    }
  }

  /** Calls and circuit state per API, for metrics and readiness. */
  stats(): GoogleApiStats[] {
    return [...this.endpoints.entries()].map(([api, e]) => ({ api, ok: e.ok, failed: e.failed, circuit: e.endpoint.state }));
  }
}

/** The promise's outcome, or a GoogleApiError once `ms` pass (the promise itself runs on, shared with others). */
function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GoogleApiError(message)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
