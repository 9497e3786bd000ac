import { gaxios } from 'google-auth-library';
import { ResponseTooLargeError } from '../errors';
import { type FetchFn, withoutRedirects } from '../outbound/fetch';
import { readTextCapped } from '../outbound/read-capped';
import { MAX_GOOGLE_RESPONSE_BYTES } from './client';

/** Where google-auth-library's service-account client always posts (and what it puts in the assertion's aud). */
export const GOOGLE_OAUTH_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export interface GoogleTransportOptions {
  fetch: FetchFn;
  /** GOOGLE_TOKEN_URL. */
  tokenUrl: string;
  /** GOOGLE_API_TIMEOUT_MS: each request's timeout. */
  timeoutMs: number;
}

/**
 * The transporter (gaxios) every google-auth-library client here is given, so that the library's
 * requests go through the injected fetch (tests reach only the fake Google on 127.0.0.1), follow
 * no redirect, have a timeout and a capped body, and are never retried by gaxios itself: a token
 * request is one attempt, and the caller's one retry policy (google/client.ts) decides.
 *
 * GOOGLE_TOKEN_URL: google-auth-library 10's service-account client (its bundled gtoken) posts to
 * https://oauth2.googleapis.com/token, a constant it offers no option for. This transport sends
 * requests for that URL to GOOGLE_TOKEN_URL instead. The assertion's `aud` stays
 * https://oauth2.googleapis.com/token, which is the audience Google's token endpoint expects
 * whatever address it is reached at (a Private Service Connect name, a proxy). The user-credential
 * clients are pointed at GOOGLE_TOKEN_URL directly (OAuth2Client's `endpoints.oauth2TokenUrl`).
 *
 * A new transporter per client: google-auth-library adds its interceptors to the transporter of
 * every client built on it, so a shared one would collect them without bound.
 */
export function googleTransport(options: GoogleTransportOptions): InstanceType<typeof gaxios.Gaxios> {
  const { tokenUrl, timeoutMs } = options;
  const fetchFn = options.fetch;
  const boundedFetch: FetchFn = async (input, init) => {
    const requested = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const url = requested === GOOGLE_OAUTH_TOKEN_URL ? tokenUrl : requested;
    const response = await fetchFn(url, withoutRedirects(init));
    let text: string;
    try {
      text = await readTextCapped(response, MAX_GOOGLE_RESPONSE_BYTES);
    } catch (err) {
      if (err instanceof ResponseTooLargeError) throw new ResponseTooLargeError(`${new URL(url).origin}: response too large`);
      throw err;
    }
    return new Response(response.status === 204 ? null : text, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  const transporter = new gaxios.Gaxios({ fetchImplementation: boundedFetch, timeout: timeoutMs, retry: false });
  transporter.interceptors.request.add({
    resolved: async (config) => {
      // Some library calls ask gaxios to retry (gtoken's POST, Impersonated's RETRY_CONFIG): never here.
      config.retry = false;
      config.retryConfig = { ...config.retryConfig, retry: 0, noResponseRetries: 0 };
      config.maxRedirects = 0;
      return config;
    },
  });
  return transporter;
}
