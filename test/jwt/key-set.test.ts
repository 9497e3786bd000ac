import { decodeBase64Url, decodeBase64UrlInto } from '../../src/jwt/base64url';
import { type KeyObject, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { KeySetFormatError } from '../../src/errors';
import { parseKeySet } from '../../src/jwt/key-set';
import { parseMaxAgeMs } from '../../src/jwt/key-set-source';
import { type TestKey, generateTestKey, publicJwk, selfSignedCertificate } from '../../testkit/keys';

/** The imported key really is `key`'s public half: it verifies what the private key signed. */
function expectSameKey(imported: KeyObject | undefined, key: TestKey): void {
  expect(imported).toBeDefined();
  expect(imported?.type).toBe('public');
  const data = Buffer.from('signing input');
  expect(cryptoVerify('sha256', data, imported as KeyObject, cryptoSign('sha256', data, key.privateKey))).toBe(true);
  expect((imported as KeyObject).export({ type: 'spki', format: 'der' }).equals(key.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
}

describe('parseKeySet', () => {
  let a: TestKey;
  let b: TestKey;
  let weak: TestKey;
  let ecJwk: Record<string, unknown>;

  beforeAll(() => {
    a = generateTestKey();
    b = generateTestKey();
    weak = generateTestKey(1024);
    ecJwk = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid: 'ec-key', alg: 'ES256', use: 'sig' };
  });

  it('accepts a JWKS', () => {
    const { keys, skipped } = parseKeySet({ keys: [publicJwk(a), publicJwk(b)] });
    expect([...keys.keys()].sort()).toEqual([a.kid, b.kid].sort());
    expect(skipped).toBe(0);
    expectSameKey(keys.get(a.kid), a);
    expectSameKey(keys.get(b.kid), b);
  });

  it('accepts JWKs without alg and use', () => {
    const { kty, n, e } = publicJwk(a);
    const { keys } = parseKeySet({ keys: [{ kty, n, e, kid: a.kid }] });
    expectSameKey(keys.get(a.kid), a);
  });

  it('never imports the private part of a JWK that carries one', () => {
    const privateJwk = { ...a.privateKey.export({ format: 'jwk' }), kid: a.kid };
    const { keys } = parseKeySet({ keys: [privateJwk] });
    expectSameKey(keys.get(a.kid), a);
  });

  it('accepts an x509 map', () => {
    const { keys, skipped } = parseKeySet({ [a.kid]: selfSignedCertificate(a), [b.kid]: selfSignedCertificate(b) });
    expect([...keys.keys()].sort()).toEqual([a.kid, b.kid].sort());
    expect(skipped).toBe(0);
    expectSameKey(keys.get(a.kid), a);
    expectSameKey(keys.get(b.kid), b);
  });

  it('skips EC keys, 1024-bit RSA, alg RS512, use enc and a missing or empty kid', () => {
    const { keys, skipped } = parseKeySet({
      keys: [
        ecJwk,
        publicJwk(weak),
        { ...publicJwk(b), kid: 'rs512', alg: 'RS512' },
        { ...publicJwk(b), kid: 'enc', use: 'enc' },
        { ...publicJwk(b), kid: undefined },
        { ...publicJwk(b), kid: '' },
        { ...publicJwk(b), kid: 17 },
        { kty: 'RSA', kid: 'no-modulus', e: 'AQAB' },
        { kty: 'oct', kid: 'hmac', k: 'c2VjcmV0' },
        null,
        'not a jwk',
        publicJwk(a),
      ],
    });
    expect([...keys.keys()]).toEqual([a.kid]);
    expect(skipped).toBe(11);
    expectSameKey(keys.get(a.kid), a);
  });

  it('skips unusable x509 entries: a 1024-bit certificate, junk, a non-string, an empty kid', () => {
    const { keys, skipped } = parseKeySet({
      weak: selfSignedCertificate(weak),
      junk: '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n',
      number: 42,
      '': selfSignedCertificate(b),
      [a.kid]: selfSignedCertificate(a),
    });
    expect([...keys.keys()]).toEqual([a.kid]);
    expect(skipped).toBe(4);
  });

  it.each<[string, unknown]>([
    ['an empty JWKS', { keys: [] }],
    ['a JWKS of only unusable keys', { keys: [null, { kty: 'RSA', kid: 'x' }] }],
    ['an empty object', {}],
    ['keys not an array', { keys: 'nope' }],
    ['an x509 map of junk', { kid1: 'junk', kid2: 5 }],
  ])('throws KeySetFormatError for a document with no usable key: %s', (_label, doc) => {
    expect(() => parseKeySet(doc)).toThrow(KeySetFormatError);
  });

  it('an array of valid JWKs (not wrapped in {keys}) is refused as a document', () => {
    expect(() => parseKeySet([publicJwk(a)])).toThrow(KeySetFormatError);
  });

  it('a JWKS of only an EC key or only a weak key is an error', () => {
    expect(() => parseKeySet({ keys: [ecJwk] })).toThrow(KeySetFormatError);
    expect(() => parseKeySet({ keys: [publicJwk(weak)] })).toThrow(KeySetFormatError);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['an array', [{ keys: [] }]],
    ['a string', 'keys'],
    ['a number', 42],
    ['a boolean', true],
  ])('throws KeySetFormatError for a non-object document: %s', (_label, doc) => {
    let error: unknown;
    try {
      parseKeySet(doc);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(KeySetFormatError);
    expect((error as KeySetFormatError).code).toBe('ERR_KEY_SET_FORMAT');
  });
});

describe('parseMaxAgeMs', () => {
  it.each<[string | null, string | null, number | undefined]>([
    ['public, max-age=19204, must-revalidate, no-transform', null, 19_204_000],
    ['max-age=3600', null, 3_600_000],
    ['public, max-age=19204, must-revalidate, no-transform', '204', 19_000_000],
    ['public, max-age=100', '500', 0],
    ['public, max-age=100', 'junk', 100_000],
    ['max-age=0', null, 0],
    ['no-cache', null, 0],
    ['public, no-cache, max-age=3600', null, 0],
    ['no-store', null, 0],
    [null, null, undefined],
    ['', null, undefined],
    ['public, must-revalidate', null, undefined],
    ['max-age=abc', null, undefined],
    ['max-age=-5', null, undefined],
    ['s-maxage=600', null, undefined],
    ['complete junk ;;; ===', '12', undefined],
  ])('Cache-Control %p with Age %p → %p', (cacheControl, age, expected) => {
    expect(parseMaxAgeMs(cacheControl, age)).toBe(expected);
  });
});

describe('decodeBase64Url', () => {
  it('accepts canonical base64url and refuses every other spelling of the same bytes', () => {
    expect(decodeBase64Url('AQ')?.toString('hex')).toBe('01');
    // "AR" decodes to the same single byte (unused low bits set): a second spelling, refused.
    expect(decodeBase64Url('AR')).toBeUndefined();
    expect(decodeBase64Url('AQ==')).toBeUndefined();
    expect(decodeBase64Url('A+/B')).toBeUndefined();
    expect(decodeBase64Url('A')).toBeUndefined();
    expect(decodeBase64Url('')?.length).toBe(0);
  });

  it('refuses, in the scratch-buffer form, a segment whose bytes would not fit the scratch', () => {
    const scratch = Buffer.alloc(3);
    expect(decodeBase64UrlInto('QUJD', scratch)).toBe(3);
    expect(scratch.toString()).toBe('ABC');
    expect(decodeBase64UrlInto('QUJDRA', scratch)).toBeUndefined();
  });

  it('agrees with "decode, encode again, compare" on every 2- and 3-character string and on random ones', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const reference = (s: string) => {
      if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return undefined;
      const bytes = Buffer.from(s, 'base64url');
      return bytes.toString('base64url') === s ? bytes.toString('hex') : undefined;
    };
    // The same answer from the scratch-buffer form (a scratch holding older bytes, as it does between tokens).
    const scratch = Buffer.alloc(64, 0xa5);
    const into = (s: string) => {
      const n = decodeBase64UrlInto(s, scratch);
      return n === undefined ? undefined : scratch.toString('hex', 0, n);
    };
    const check = (s: string) => expect([s, decodeBase64Url(s)?.toString('hex'), into(s)]).toEqual([s, reference(s), reference(s)]);
    for (const a of alphabet) for (const b of alphabet) {
      check(`${a}${b}`);
      check(`QUJD${a}${b}`);
      for (const c of 'AQgw_') check(`${a}${b}${c}`);
    }
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 3000; i += 1) {
      const len = Math.floor(rand() * 40);
      check(Array.from({ length: len }, () => alphabet[Math.floor(rand() * 64)]).join(''));
    }
    for (const junk of ['AQ=', 'A Q', 'AQ\n', 'Ä', 'AQ.', '+/', '____=']) check(junk);
    // One character of a valid segment replaced by each of the first 384 code units, a few far ones and a
    // surrogate pair, at each place, for segments of every length mod 4: the decoder's own leniency (it skips or
    // stops at what it does not know, and takes '+' and '/') never lets a second spelling through.
    const odd = [...Array.from({ length: 384 }, (_, c) => String.fromCharCode(c)), '\u2028', '\ud800', '\ufffd', '\u{1f600}'];
    for (const base of ['QQ', 'QUI', 'QUJDRA', 'QUJDREU', 'QUJDREVG', 'QUJDREVGRw']) {
      for (let at = 0; at < base.length; at += 1) for (const ch of odd) check(`${base.slice(0, at)}${ch}${base.slice(at + 1)}`);
    }
  });
});
