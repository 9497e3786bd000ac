/**
 * Jest setup (setupFilesAfterEnv): every supertest response is checked against /openapi.json
 * (testkit/openapi-validator.ts) before the test sees it. A response the document does not describe fails the
 * request with a message naming the route, status and schema error, as a failed `.expect()` does. Responses of apps
 * marked with notTheBridge() (a library user's own express app) are not checked.
 */
import { Test } from 'supertest';

/** Loaded on the first response, so test files that send none do not pay for ajv and the document. */
const validator = (): typeof import('./openapi-validator') => require('./openapi-validator') as typeof import('./openapi-validator');

interface SupertestInternals {
  app: unknown;
  method: string;
  url: string;
}

interface SupertestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text?: string;
}

type AssertFn = (this: SupertestInternals, resError: unknown, res: SupertestResponse | undefined, fn?: (err: unknown, res: unknown) => void) => void;

const proto = Test.prototype as unknown as { assert: AssertFn & { openApiChecked?: true } };
if (!proto.assert.openApiChecked) {
  const original = proto.assert;
  const checked: AssertFn = function (this: SupertestInternals, resError, res, fn) {
    original.call(this, resError, res, (err: unknown, response: unknown) => {
      let error = err;
      if (!error && res && !validator().isNotTheBridge(this.app)) {
        try {
          validator().assertDocumented({ method: this.method, path: new URL(this.url).pathname, status: res.status, headers: res.headers, text: res.text ?? '' });
        } catch (problem) {
          error = problem;
        }
      }
      fn?.call(this, error ?? null, response);
    });
  };
  proto.assert = Object.assign(checked, { openApiChecked: true as const });
}
