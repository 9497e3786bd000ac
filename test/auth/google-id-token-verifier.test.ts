import { InvalidTokenError } from '../../src/errors';
import { GoogleIdTokenVerifier } from '../../src/auth/google-id-token-verifier';
import { MAX_TOKEN_LENGTH } from '../../src/jwt/decode';
import { rs256Scheduler } from '../../src/jwt/rs256';
import { manualClock } from '../../testkit/harness';
import { type TestKey, generateTestKey } from '../../testkit/keys';
import {
  b64u,
  expectInvalidToken,
  hmacToken,
  joseToken,
  prng,
  randomBytesFrom,
  rawRsaToken,
  sameTokenBytes,
  staticCache,
  tamperPayload,
} from '../../testkit/jwt-forge';

const WEB = 'web-client.apps.googleusercontent.com';
const IOS = 'ios-client.apps.googleusercontent.com';
const NOW_MS = 1_750_000_000_000;
const NOW = NOW_MS / 1000;
const SUB = '110169484474386276334';

describe('GoogleIdTokenVerifier', () => {
  let key: TestKey;
  let otherKey: TestKey;
  let attacker: TestKey;
  let clock: ReturnType<typeof manualClock>;
  let verifier: GoogleIdTokenVerifier;

  beforeAll(() => {
    key = generateTestKey();
    otherKey = generateTestKey();
    attacker = generateTestKey();
  });

  beforeEach(() => {
    clock = manualClock(NOW_MS);
    verifier = new GoogleIdTokenVerifier({
      keys: staticCache([key, otherKey], clock),
      clientIds: [WEB, IOS],
      skewSeconds: 60,
      clock,
    });
  });

  function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const base: Record<string, unknown> = {
      iss: 'https://accounts.google.com',
      azp: 'android-client.apps.googleusercontent.com',
      aud: WEB,
      sub: SUB,
      email: 'ada@example.com',
      email_verified: true,
      name: 'Ada Lovelace',
      picture: 'https://lh3.googleusercontent.com/a/photo',
      hd: 'example.com',
      iat: NOW - 10,
      exp: NOW + 3590,
      ...overrides,
    };
    for (const [name, value] of Object.entries(base)) if (value === undefined) delete base[name];
    return base;
  }
  const token = (overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}, k: TestKey = key) =>
    joseToken(claims(overrides), k, header);

  describe('accepts', () => {
    it.each(['accounts.google.com', 'https://accounts.google.com'])('a valid token with iss %s and returns the identity', async (iss) => {
      const identity = await verifier.verify(await token({ iss }));
      expect(identity).toMatchObject({
        sub: SUB,
        email: 'ada@example.com',
        emailVerified: true,
        hd: 'example.com',
        azp: 'android-client.apps.googleusercontent.com',
        name: 'Ada Lovelace',
        picture: 'https://lh3.googleusercontent.com/a/photo',
        aud: WEB,
        iat: NOW - 10,
        exp: NOW + 3590,
      });
      expect(identity.claims.iss).toBe(iss);
    });

    it('checks the signature on the event loop even when requests arrive together (the exchange signs on the pool)', async () => {
      const tokens = await Promise.all(Array.from({ length: 6 }, (_, i) => token({ email: `u${i}@example.com` })));
      rs256Scheduler.noteRequest();
      rs256Scheduler.noteRequest();
      const before = rs256Scheduler.stats();
      const identities = await Promise.all(tokens.map((t) => verifier.verify(t)));
      expect(identities.map((i) => i.email)).toEqual(tokens.map((_, i) => `u${i}@example.com`));
      expect(rs256Scheduler.stats()).toEqual(before);
      // A forged signature is still refused on the loop.
      await expectInvalidToken(verifier.verify(await token({}, { kid: key.kid }, attacker)), 'ERR_JWS_SIGNATURE');
    });

    it('a token for the second client ID, signed by the second key of the set', async () => {
      const identity = await verifier.verify(await token({ aud: IOS }, {}, otherKey));
      expect(identity.aud).toBe(IOS);
    });

    it('email_verified as the string "true" (and "false" / absent as not verified)', async () => {
      expect((await verifier.verify(await token({ email_verified: 'true' }))).emailVerified).toBe(true);
      expect((await verifier.verify(await token({ email_verified: 'false' }))).emailVerified).toBe(false);
      expect((await verifier.verify(await token({ email_verified: undefined }))).emailVerified).toBe(false);
    });

    it('exp 30 s ago, within the 60 s leeway', async () => {
      await expect(verifier.verify(await token({ iat: NOW - 3630, exp: NOW - 30 }))).resolves.toMatchObject({ sub: SUB });
    });

    it('iat 30 s in the future, within the 60 s leeway', async () => {
      await expect(verifier.verify(await token({ iat: NOW + 30, exp: NOW + 3630 }))).resolves.toMatchObject({ sub: SUB });
    });

    it('a 255-character sub', async () => {
      const sub = '1'.repeat(255);
      expect((await verifier.verify(await token({ sub }))).sub).toBe(sub);
    });

    it('a validly signed token just under the length limit', async () => {
      const base = await token({ pad: '' });
      const pad = 'x'.repeat(Math.floor(((MAX_TOKEN_LENGTH - base.length - 8) * 3) / 4));
      const t = await token({ pad });
      expect(t.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
      await expect(verifier.verify(t)).resolves.toMatchObject({ sub: SUB });
    });
  });

  describe('rejects claims', () => {
    it.each([
      ['another issuer', 'https://accounts.google.com.evil.example'],
      ['http scheme', 'http://accounts.google.com'],
      ['trailing slash', 'https://accounts.google.com/'],
      ['securetoken', 'https://securetoken.google.com/fb-test-project'],
      ['missing', undefined],
      ['non-string', ['accounts.google.com']],
    ])('iss: %s', async (_label, iss) => {
      await expectInvalidToken(verifier.verify(await token({ iss })), 'ERR_CLAIM_ISS');
    });

    it.each([
      ['another client', 'other-client.apps.googleusercontent.com'],
      ['case changed', WEB.toUpperCase()],
      ['missing', undefined],
      ['array holding an accepted client', [WEB]],
      ['array of both', [WEB, IOS]],
    ])('aud: %s', async (_label, aud) => {
      await expectInvalidToken(verifier.verify(await token({ aud })), 'ERR_CLAIM_AUD');
    });

    it('exp in the past beyond the leeway', async () => {
      await expectInvalidToken(verifier.verify(await token({ iat: NOW - 7200, exp: NOW - 61 })), 'ERR_TOKEN_EXPIRED');
      await expectInvalidToken(verifier.verify(await token({ iat: NOW - 7200, exp: NOW - 3600 })), 'ERR_TOKEN_EXPIRED');
    });

    it('a token that was valid, once the clock moves past exp + leeway', async () => {
      const t = await token();
      await verifier.verify(t);
      clock.advance((3590 + 61) * 1000);
      await expectInvalidToken(verifier.verify(t), 'ERR_TOKEN_EXPIRED');
    });

    it('iat in the future beyond the leeway', async () => {
      await expectInvalidToken(verifier.verify(await token({ iat: NOW + 61, exp: NOW + 3661 })), 'ERR_CLAIM_IN_FUTURE');
    });

    it.each([
      ['missing', undefined],
      ['a string', String(NOW)],
      ['negative', -1],
    ])('iat %s', async (_label, iat) => {
      await expectInvalidToken(verifier.verify(await token({ iat })), 'ERR_CLAIM_INVALID');
    });

    it('exp missing or not a number', async () => {
      await expectInvalidToken(verifier.verify(await token({ exp: undefined })), 'ERR_CLAIM_INVALID');
      await expectInvalidToken(verifier.verify(await token({ exp: `${NOW + 3600}` })), 'ERR_CLAIM_INVALID');
    });

    it('exp not after iat', async () => {
      await expectInvalidToken(verifier.verify(await token({ iat: NOW, exp: NOW })), 'ERR_CLAIM_INVALID');
    });

    it('nbf in the future beyond the leeway (but not within it)', async () => {
      await expectInvalidToken(verifier.verify(await token({ nbf: NOW + 120 })), 'ERR_CLAIM_IN_FUTURE');
      await expect(verifier.verify(await token({ nbf: NOW + 30 }))).resolves.toMatchObject({ sub: SUB });
    });

    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['256 characters', '1'.repeat(256)],
      ['containing a space', '1101694844 74386276334'],
      ['containing a newline', `${SUB}\n`],
      ['non-ASCII', '1101694844é'],
      ['a number', 110169484474386276334],
    ])('sub %s', async (_label, sub) => {
      await expectInvalidToken(verifier.verify(await token({ sub })), 'ERR_CLAIM_SUB');
    });
  });

  describe('rejects the algorithm and the signature', () => {
    it('alg "none" with an empty signature', async () => {
      const unsigned = `${b64u({ alg: 'none', typ: 'JWT', kid: key.kid })}.${b64u(claims())}.`;
      const err = await expectInvalidToken(verifier.verify(unsigned));
      expect(['ERR_JWT_MALFORMED', 'ERR_JWT_ALG']).toContain(err.code);
      // nor without the kid
      const noKid = `${b64u({ alg: 'none' })}.${b64u(claims())}.`;
      const err2 = await expectInvalidToken(verifier.verify(noKid));
      expect(['ERR_JWT_MALFORMED', 'ERR_JWT_ALG']).toContain(err2.code);
    });

    it.each(['none', 'None', 'NONE', 'rs256', '', null])('alg %p with a junk signature', async (alg) => {
      const t = `${b64u({ alg, typ: 'JWT', kid: key.kid })}.${b64u(claims())}.${b64u('junk-signature')}`;
      await expectInvalidToken(verifier.verify(t), 'ERR_JWT_ALG');
    });

    it('header without alg', async () => {
      await expectInvalidToken(verifier.verify(rawRsaToken({ kid: key.kid }, claims(), key.privateKey)), 'ERR_JWT_ALG');
    });

    it('HS256 signed with the RSA public key (PEM and DER) as the HMAC secret', async () => {
      const pem = key.publicKey.export({ type: 'spki', format: 'pem' }) as string;
      const pkcs1 = key.publicKey.export({ type: 'pkcs1', format: 'pem' }) as string;
      const der = key.publicKey.export({ type: 'spki', format: 'der' });
      for (const secret of [pem, pkcs1, der]) {
        await expectInvalidToken(verifier.verify(hmacToken({ alg: 'HS256', typ: 'JWT', kid: key.kid }, claims(), secret)), 'ERR_JWT_ALG');
      }
      // the same HMAC under an RS256 label is just a bad signature
      await expectInvalidToken(verifier.verify(hmacToken({ alg: 'RS256', typ: 'JWT', kid: key.kid }, claims(), pem)), 'ERR_JWS_SIGNATURE');
    });

    it('RS512 signed by the real key', async () => {
      await expectInvalidToken(verifier.verify(await joseToken(claims(), key, {}, 'RS512')), 'ERR_JWT_ALG');
      await expectInvalidToken(verifier.verify(await joseToken(claims(), key, {}, 'PS256')), 'ERR_JWT_ALG');
    });

    it('an RS512 signature under an RS256 label', async () => {
      await expectInvalidToken(verifier.verify(rawRsaToken({ alg: 'RS256', kid: key.kid }, claims(), key.privateKey, 'sha512')), 'ERR_JWS_SIGNATURE');
    });

    it("a token signed by an attacker's own key carrying a real kid", async () => {
      await expectInvalidToken(verifier.verify(await token({}, { kid: key.kid }, attacker)), 'ERR_JWS_SIGNATURE');
    });

    it("a token signed by one published key but naming the other's kid", async () => {
      await expectInvalidToken(verifier.verify(await token({}, { kid: otherKey.kid }, key)), 'ERR_JWS_SIGNATURE');
    });

    it('a valid token whose payload was tampered with', async () => {
      const valid = await token();
      await verifier.verify(valid);
      await expectInvalidToken(verifier.verify(tamperPayload(valid, (p) => (p.email = 'mallory@example.com'))), 'ERR_JWS_SIGNATURE');
      await expectInvalidToken(verifier.verify(tamperPayload(valid, (p) => (p.sub = '100000000000000000001'))), 'ERR_JWS_SIGNATURE');
    });

    it('a valid token whose header was tampered with (typ changed)', async () => {
      const valid = await token();
      const [, p, s] = valid.split('.');
      await expectInvalidToken(verifier.verify(`${b64u({ alg: 'RS256', kid: key.kid, typ: 'at+jwt' })}.${p}.${s}`), 'ERR_JWS_SIGNATURE');
    });

    it('a valid token with its signature truncated or removed', async () => {
      const valid = await token();
      const [h, p, s] = valid.split('.') as [string, string, string];
      await expectInvalidToken(verifier.verify(`${h}.${p}.${s.slice(0, 40)}`), 'ERR_JWS_SIGNATURE');
      await expectInvalidToken(verifier.verify(`${h}.${p}.`), 'ERR_JWT_MALFORMED');
    });
  });

  describe('rejects the header', () => {
    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['a number', 42],
      ['257 characters', 'k'.repeat(257)],
    ])('kid %s', async (_label, kid) => {
      const header: Record<string, unknown> = { alg: 'RS256', typ: 'JWT' };
      if (kid !== undefined) header.kid = kid;
      await expectInvalidToken(verifier.verify(rawRsaToken(header, claims(), key.privateKey)), 'ERR_JWT_KID');
    });

    it('a kid not in the key set', async () => {
      await expectInvalidToken(verifier.verify(await token({}, { kid: 'not-a-published-kid' })), 'ERR_KID_UNKNOWN');
      await expectInvalidToken(verifier.verify(await token({}, { kid: attacker.kid }, attacker)), 'ERR_KID_UNKNOWN');
    });

    it('a header with crit', async () => {
      for (const crit of [['exp'], ['b64'], [], 'exp']) {
        const t = rawRsaToken({ alg: 'RS256', kid: key.kid, typ: 'JWT', crit, exp: NOW + 10, b64: true }, claims(), key.privateKey);
        await expectInvalidToken(verifier.verify(t), 'ERR_JWT_MALFORMED');
      }
    });
  });

  describe('rejects malformed tokens', () => {
    let h: string;
    let p: string;
    let s: string;
    beforeAll(async () => {
      [h, p, s] = (await token()).split('.') as [string, string, string];
    });

    it.each<[string, () => string]>([
      ['one part', () => h],
      ['two parts', () => `${h}.${p}`],
      ['two parts with the signature', () => `${h}${p}.${s}`],
      ['four parts', () => `${h}.${p}.${s}.${s}`],
      ['four parts (trailing dot)', () => `${h}.${p}.${s}.`],
      ['empty header', () => `.${p}.${s}`],
      ['empty payload', () => `${h}..${s}`],
      ['only dots', () => '..'],
      ['empty string', () => ''],
      ['padding in the payload', () => `${h}.${p}==.${s}`],
      ['base64 (not url) characters', () => `${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}+/`],
      ['whitespace inside', () => `${h} .${p}.${s}`],
      ['non-base64url characters in the header', () => `${h}*.${p}.${s}`],
      ['non-ASCII in the payload', () => `${h}.${p}é.${s}`],
      ['payload JSON is an array', () => `${h}.${b64u([claims()])}.${s}`],
      ['payload JSON is a string', () => `${h}.${b64u('"hello"')}.${s}`],
      ['payload JSON is null', () => `${h}.${b64u('null')}.${s}`],
      ['payload is not JSON', () => `${h}.${b64u('{"sub": ')}.${s}`],
      ['header JSON is an array', () => `${b64u([{ alg: 'RS256', kid: key.kid }])}.${p}.${s}`],
      ['impossible base64 length in the signature', () => `${h}.${p}.${s}${'A'.repeat((5 - (s.length % 4)) % 4 || 4)}`],
      ['impossible base64 length in the payload', () => `${h}.${p}${'A'.repeat((5 - (p.length % 4)) % 4 || 4)}.${s}`],
      ['a Bearer prefix', () => `Bearer ${h}.${p}.${s}`],
    ])('%s', async (_label, make) => {
      await expectInvalidToken(verifier.verify(make()), 'ERR_JWT_MALFORMED');
    });

    it('a token over 16 KiB, even validly signed', async () => {
      const t = await token({ pad: 'x'.repeat(MAX_TOKEN_LENGTH) });
      expect(t.length).toBeGreaterThan(MAX_TOKEN_LENGTH);
      await expectInvalidToken(verifier.verify(t), 'ERR_JWT_MALFORMED');
      await expectInvalidToken(verifier.verify('a'.repeat(MAX_TOKEN_LENGTH + 1)), 'ERR_JWT_MALFORMED');
      await expectInvalidToken(verifier.verify(`${h}.${p}.${s}${'A'.repeat(MAX_TOKEN_LENGTH)}`), 'ERR_JWT_MALFORMED');
    });

    it.each<[string, unknown]>([
      ['undefined', undefined],
      ['null', null],
      ['a number', 42],
      ['NaN', Number.NaN],
      ['a boolean', true],
      ['an object', { token: 'a.b.c' }],
      ['an array of parts', ['a', 'b', 'c']],
      ['a Buffer', Buffer.from('a.b.c')],
      ['a String object', new String('a.b.c')],
    ])('a non-string input: %s', async (_label, input) => {
      await expectInvalidToken(verifier.verify(input), 'ERR_JWT_MALFORMED');
    });

    it('an object whose toString returns a valid token', async () => {
      const valid = await token();
      await expectInvalidToken(verifier.verify({ toString: () => valid }), 'ERR_JWT_MALFORMED');
    });
  });

  describe('never throws anything but InvalidTokenError on garbage', () => {
    it('~500 random and mutated tokens', async () => {
      const rand = prng(0x5eed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
      const inputs: string[] = [];

      // random bytes, base64url'ed, in 3 parts
      for (let i = 0; i < 200; i += 1) {
        const parts = [0, 1, 2].map(() => randomBytesFrom(rand, Math.floor(rand() * 80)).toString('base64url'));
        inputs.push(parts.join('.'));
      }
      // structurally plausible: a real header and kid with random JSON values in the claims
      const values: unknown[] = [
        null, true, 0, -1, 1e308, NOW, NOW + 1e9, '', 'x', SUB, WEB, [], [WEB], {}, { a: 1 }, 'accounts.google.com', -0.5, 2 ** 53,
      ];
      const names = ['iss', 'aud', 'sub', 'iat', 'exp', 'nbf', 'email', 'email_verified', 'PROTO', 'constructor'];
      for (let i = 0; i < 100; i += 1) {
        const payload: Record<string, unknown> = {};
        for (const name of names) if (rand() < 0.7) payload[name] = pick(values);
        const header: Record<string, unknown> = { alg: pick(['RS256', 'RS256', 'none', 'HS256', 42, null]), kid: pick([key.kid, '__proto__', 'toString', '', 7, attacker.kid]) };
        if (rand() < 0.2) header.crit = pick([[], ['x'], 'x']);
        // a literal "__proto__" member in the JSON (an own property once parsed)
        const payloadJson = JSON.stringify(payload).replace('"PROTO"', '"__proto__"');
        inputs.push(`${b64u(header)}.${b64u(payloadJson)}.${randomBytesFrom(rand, 256).toString('base64url')}`);
      }

      for (const input of inputs) {
        let accepted = false;
        try {
          await verifier.verify(input);
          accepted = true;
        } catch (err) {
          if (!(err instanceof InvalidTokenError)) throw new Error(`non-InvalidTokenError for ${JSON.stringify(input)}: ${String(err)}`);
          expect(typeof err.code).toBe('string');
          expect(err.code).toMatch(/^ERR_[A-Z_]+$/);
        }
        expect(accepted).toBe(false);
      }

      // a valid token with one character changed at a sample of positions
      const valid = await token();
      await verifier.verify(valid);
      const replacements = 'AZaz09-_.=+/ ~é';
      let mutated = 0;
      let sameBytes = 0;
      const positions = new Set<number>([0, valid.indexOf('.') - 1, valid.indexOf('.'), valid.lastIndexOf('.'), valid.length - 1, valid.length - 2]);
      while (positions.size < 200) positions.add(Math.floor(rand() * valid.length));
      for (const at of positions) {
        const original = valid[at] as string;
        const candidates = [...replacements].filter((c) => c !== original);
        const flipped = valid.slice(0, at) + pick(candidates) + valid.slice(at + 1);
        mutated += 1;
        let accepted = false;
        try {
          await verifier.verify(flipped);
          accepted = true;
        } catch (err) {
          if (!(err instanceof InvalidTokenError)) throw new Error(`non-InvalidTokenError at position ${at}: ${String(err)}`);
        }
        // Only a change that decodes to the very same bytes (a non-canonical last base64url
        // character of the signature) may still verify.
        const same = sameTokenBytes(valid, flipped);
        if (same) sameBytes += 1;
        expect({ at, accepted }).toEqual({ at, accepted: same });
      }
      expect(inputs.length + mutated).toBeGreaterThanOrEqual(500);
      expect(sameBytes).toBeLessThan(5);
    });
  });
});
