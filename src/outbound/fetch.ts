/** The fetch every outbound call goes through; injected, so tests reach only fakes on 127.0.0.1. */
export type FetchFn = typeof fetch;

/**
 * Every outbound request refuses redirects: a key-set or API URL answering 3xx to another origin
 * must never make the bridge trust (or send credentials to) that origin, nor downgrade to http.
 */
export function withoutRedirects(init: RequestInit = {}): RequestInit {
  return { ...init, redirect: 'error' };
}
