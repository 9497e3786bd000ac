import { assertDocumented } from './openapi-validator';

export type BridgeFetch = typeof fetch & {
  /** Registers a spawned bridge's URL (its origin); returns it. */
  bridge(url: string): string;
};

/**
 * A fetch for tests of spawned servers: every response from a registered bridge origin is checked against
 * /openapi.json (testkit/openapi-validator.ts) before the test sees it; a response the document does not describe
 * rejects with the validator's message. Other URLs (the fakes) pass through unchecked. The body stays readable.
 */
export function bridgeFetch(inner: typeof fetch = globalThis.fetch): BridgeFetch {
  const origins = new Set<string>();
  const checked = async (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
    const response = await inner(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!origins.has(url.origin)) return response;
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const text = await response.clone().text();
    assertDocumented({ method, path: url.pathname, status: response.status, headers, text });
    return response;
  };
  return Object.assign(checked, {
    bridge(url: string): string {
      origins.add(new URL(url).origin);
      return url;
    },
  }) as BridgeFetch;
}
