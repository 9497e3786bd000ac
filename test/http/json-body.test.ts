import type { IncomingMessage } from 'node:http';
import { isPlainJsonBody, parseStrictJson } from '../../src/http/json-body';
import { toErrorReply } from '../../src/http/send-error';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('plain JSON bodies (the fast exchange reads them without body-parser)', () => {
  it('takes only application/json in UTF-8 with a Content-Length within the limit, and nothing encoded or chunked', () => {
    const plain = { 'content-type': 'application/json', 'content-length': '20' };
    expect(isPlainJsonBody(req(plain), 100)).toBe(true);
    for (const type of ['application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"', 'application/json ; charset=utf-8']) {
      expect([type, isPlainJsonBody(req({ ...plain, 'content-type': type }), 100)]).toEqual([type, true]);
    }
    for (const type of ['application/json; charset=latin1', 'application/jsonx', 'application/vnd.api+json', 'text/json', 'application/json; x=1']) {
      expect([type, isPlainJsonBody(req({ ...plain, 'content-type': type }), 100)]).toEqual([type, false]);
    }
    expect(isPlainJsonBody(req({ ...plain, 'content-length': '101' }), 100)).toBe(false);
    expect(isPlainJsonBody(req({ ...plain, 'content-length': '1e2' }), 1000)).toBe(false);
    expect(isPlainJsonBody(req({ 'content-type': 'application/json' }), 100)).toBe(false);
    expect(isPlainJsonBody(req({ ...plain, 'content-encoding': 'gzip' }), 100)).toBe(false);
    expect(isPlainJsonBody(req({ ...plain, 'content-encoding': 'identity' }), 100)).toBe(false);
    expect(isPlainJsonBody(req({ ...plain, 'transfer-encoding': 'chunked' }), 100)).toBe(false);
  });

  it('parses as express.json({ strict: true }): a BOM dropped, empty is {}, only an object or array, refusals as the app answers them', () => {
    expect(parseStrictJson('{"a":1}')).toEqual({ a: 1 });
    expect(parseStrictJson('\ufeff [1]')).toEqual([1]);
    expect(parseStrictJson('')).toEqual({});
    for (const text of ['"a"', '1', 'null', ' \n', '{"a":', '{a:1}', '\ufeff\ufeff{}']) {
      let thrown: unknown;
      try {
        parseStrictJson(text);
      } catch (err) {
        thrown = err;
      }
      expect([text, toErrorReply(thrown)]).toEqual([text, { status: 400, error: 'invalid_request', description: 'request body is not valid JSON' }]);
    }
  });
});
