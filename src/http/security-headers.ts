import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * The headers helmet's defaults set (Content-Security-Policy, Strict-Transport-Security,
 * X-Content-Type-Options, ...), recorded once by running helmet() against a recorder: the same
 * names and values helmet would set on every response, with no copy to drift from it when helmet
 * is upgraded. Its defaults depend on nothing in the request (test/http/security-headers.test.ts
 * compares the header sets on real responses).
 */
export function helmetDefaultHeaders(): ReadonlyArray<readonly [string, string]> {
  const headers: Array<[string, string]> = [];
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers.push([name, String(value)]);
      return recorder;
    },
    removeHeader() {
      // X-Powered-By: the app never sets it (app.disable('x-powered-by')).
    },
  };
  let done = false;
  helmet()({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
    done = true;
  });
  if (!done) throw new Error('helmet did not finish synchronously');
  return headers;
}

/**
 * Sets every response's fixed headers: helmet's, and `Cache-Control: no-store` (tokens must never be cached by a
 * proxy or browser, RFC 6749 §5.1). Computed once; per request only the setHeader calls remain (helmet runs a chain
 * of 13 middlewares for the same result).
 */
export function securityHeaderSetter(): (res: ServerResponse) => void {
  const headers = [...helmetDefaultHeaders(), ['Cache-Control', 'no-store'] as const];
  const names = headers.map(([name]) => name);
  const values = headers.map(([, value]) => value);
  const count = headers.length;
  return (res) => {
    for (let i = 0; i < count; i += 1) res.setHeader(names[i] as string, values[i] as string);
  };
}

/** The same as a middleware. */
export function securityHeaders(): RequestHandler {
  const set = securityHeaderSetter();
  return (_req, res, next) => {
    set(res);
    next();
  };
}
