import type { FetchFn } from '../jwt/key-set-source';
import { ResponseTooLargeError, readTextCapped } from '../outbound/read-capped';

/** A call to a Google API failed. The message names the call and Google's reason, never a secret. */
export class GoogleApiError extends Error {
  readonly code = 'ERR_GOOGLE_API';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'GoogleApiError';
  }
}

const MAX_RESPONSE_BYTES = 256 * 1024;

/**
 * One JSON call with a hard timeout covering headers and body. A non-2xx answer becomes a
 * GoogleApiError carrying Google's error message (`error.message` or `error_description`, which
 * never echo credentials); the request body (assertions, refresh tokens) is never put in an error.
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
    response = await fetchFn(url, { ...init, signal });
    text = await readTextCapped(response, MAX_RESPONSE_BYTES);
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
    throw new GoogleApiError(`${what}: HTTP ${response.status}${reasonOf(body)}`, response.status);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GoogleApiError(`${what}: the response is not a JSON object`, response.status);
  }
  return body as Record<string, unknown>;
}

function reasonOf(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const record = body as Record<string, unknown>;
  const error = record.error;
  let reason: unknown;
  if (typeof error === 'object' && error !== null) reason = (error as Record<string, unknown>).message;
  else reason = record.error_description ?? error;
  return typeof reason === 'string' && reason !== '' ? ` (${reason.replace(/\s+/g, ' ').slice(0, 200)})` : '';
}
