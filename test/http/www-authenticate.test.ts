import request from 'supertest';
import { bearerChallenge, quoted } from '../../src/http/send-error';
import { FakeGoogle } from '../../testkit/fake-google';
import { bridgeFor } from '../../testkit/harness';

/**
 * Reads the auth-params of a challenge as RFC 7230 §3.2.6 says a client must: quoted-string with
 * quoted-pair (a backslash escapes the next character). Written independently of the code under test.
 */
function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const space = header.indexOf(' ');
  const scheme = space < 0 ? header : header.slice(0, space);
  const params: Record<string, string> = {};
  let i = space < 0 ? header.length : space + 1;
  while (i < header.length) {
    const eq = header.indexOf('=', i);
    const name = header.slice(i, eq).trim();
    i = eq + 1;
    if (header[i] !== '"') throw new Error(`unquoted value at ${i}`);
    i++;
    let value = '';
    for (;;) {
      const ch = header[i++];
      if (ch === undefined) throw new Error('unterminated quoted-string');
      if (ch === '"') break;
      if (ch === '\\') {
        value += header[i++];
        continue;
      }
      if (!/[\t\x20\x21\x23-\x5b\x5d-\x7e]/.test(ch)) throw new Error(`${JSON.stringify(ch)} is not qdtext`);
      value += ch;
    }
    params[name] = value;
    while (header[i] === ',' || header[i] === ' ') i++;
  }
  return { scheme, params };
}

describe('WWW-Authenticate: descriptions are RFC 7230 quoted-strings', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('a description quoting a claim name keeps its quotes, backslash-escaped', async () => {
    const { app } = bridgeFor(fake);
    const token = await fake.firebaseIdToken({ aud: 'someone-else' });
    const res = await request(app).get('/v1/me').set('Authorization', `Bearer ${token}`).expect(401);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: '"aud" claim is not an accepted value' });
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="firebridge", error="invalid_token", error_description="\\"aud\\" claim is not an accepted value"',
    );
    expect(parseChallenge(res.headers['www-authenticate'] as string)).toEqual({
      scheme: 'Bearer',
      params: { realm: 'firebridge', error: 'invalid_token', error_description: res.body.error_description },
    });
  });

  it('backslashes are escaped; characters a quoted-string cannot carry are replaced, never passed through', () => {
    expect(quoted('a "b" c')).toBe('"a \\"b\\" c"');
    expect(quoted('C:\\path')).toBe('"C:\\\\path"');
    expect(quoted('\\"')).toBe('"\\\\\\""');
    expect(quoted('line\r\nX-Injected: 1')).toBe('"line??X-Injected: 1"');
    expect(quoted('nul\u0000 del\u007f é 😀 tab\t')).toBe('"nul? del? ? ? tab\t"');
    for (const description of ['"exp" is not after "iat"', 'odd \\ "mix" \\"', 'plain']) {
      const header = bearerChallenge('firebridge', { status: 401, error: 'invalid_token', description });
      expect(parseChallenge(header).params.error_description).toBe(description);
    }
    const hostile = bearerChallenge('re"alm\\', { status: 401, error: 'invalid_token', description: 'x\r\n\u0085"' });
    expect(hostile).not.toMatch(/[\r\n\u0085]/);
    expect(parseChallenge(hostile).params).toEqual({ realm: 're"alm\\', error: 'invalid_token', error_description: 'x???"' });
  });
});
