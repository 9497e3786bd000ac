import { FirebaseIdTokenVerifier } from '../../src/auth/firebase-id-token-verifier';
import { manualClock } from '../../testkit/harness';
import { type TestKey, generateTestKey } from '../../testkit/keys';
import { b64u, expectInvalidToken, hmacToken, joseToken, rawRsaToken, staticCache, tamperPayload } from '../../testkit/jwt-forge';

const PROJECT = 'fb-test-project';
const ISSUER = `https://securetoken.google.com/${PROJECT}`;
const NOW_MS = 1_750_000_000_000;
const NOW = NOW_MS / 1000;
const UID = 'google:110169484474386276334';

describe('FirebaseIdTokenVerifier', () => {
  let key: TestKey;
  let attacker: TestKey;
  let clock: ReturnType<typeof manualClock>;
  let verifier: FirebaseIdTokenVerifier;

  beforeAll(() => {
    key = generateTestKey();
    attacker = generateTestKey();
  });

  beforeEach(() => {
    clock = manualClock(NOW_MS);
    verifier = new FirebaseIdTokenVerifier({ keys: staticCache([key], clock), projectId: PROJECT, skewSeconds: 60, clock });
  });

  function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const base: Record<string, unknown> = {
      iss: ISSUER,
      aud: PROJECT,
      auth_time: NOW - 100,
      user_id: UID,
      sub: UID,
      iat: NOW - 10,
      exp: NOW + 3590,
      email: 'ada@example.com',
      email_verified: true,
      firebase: { identities: {}, sign_in_provider: 'custom' },
      ...overrides,
    };
    for (const [name, value] of Object.entries(base)) if (value === undefined) delete base[name];
    return base;
  }
  const token = (overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}, k: TestKey = key) =>
    joseToken(claims(overrides), k, header);

  describe('accepts', () => {
    it('a valid token, returning uid, every claim and exp', async () => {
      const user = await verifier.verify(await token());
      expect(user).toEqual({ uid: UID, exp: NOW + 3590, claims: claims() });
    });

    it('a 128-character sub', async () => {
      const sub = 'u'.repeat(128);
      expect((await verifier.verify(await token({ sub }))).uid).toBe(sub);
    });

    it('auth_time 30 s in the future, within the 60 s leeway', async () => {
      await expect(verifier.verify(await token({ auth_time: NOW + 30 }))).resolves.toMatchObject({ uid: UID });
    });

    it('exp 30 s ago, within the leeway', async () => {
      await expect(verifier.verify(await token({ iat: NOW - 3630, auth_time: NOW - 3700, exp: NOW - 30 }))).resolves.toMatchObject({ uid: UID });
    });
  });

  describe('rejects claims', () => {
    it.each([
      ['another project', 'other-project'],
      ['a project prefix', 'fb-test'],
      ['a Google client ID', 'web-client.apps.googleusercontent.com'],
      ['an array', [PROJECT]],
      ['missing', undefined],
    ])('aud: %s', async (_label, aud) => {
      await expectInvalidToken(verifier.verify(await token({ aud })), 'ERR_CLAIM_AUD');
    });

    it.each([
      ['another project', 'https://securetoken.google.com/other-project'],
      ['project prefix only', 'https://securetoken.google.com/fb-test'],
      ['wrong prefix (http)', `http://securetoken.google.com/${PROJECT}`],
      ['wrong prefix (host)', `https://securetoken.google.com.evil.example/${PROJECT}`],
      ['wrong prefix (Google accounts)', 'https://accounts.google.com'],
      ['trailing slash', `${ISSUER}/`],
      ['bare project id', PROJECT],
      ['missing', undefined],
    ])('iss: %s', async (_label, iss) => {
      await expectInvalidToken(verifier.verify(await token({ iss })), 'ERR_CLAIM_ISS');
    });

    it.each([
      ['empty', ''],
      ['129 characters', 'u'.repeat(129)],
      ['a number', 12345],
      ['an object', { uid: UID }],
      ['missing', undefined],
    ])('sub %s', async (_label, sub) => {
      await expectInvalidToken(verifier.verify(await token({ sub })), 'ERR_CLAIM_SUB');
    });

    it('exp in the past beyond the leeway', async () => {
      await expectInvalidToken(verifier.verify(await token({ iat: NOW - 3700, auth_time: NOW - 3800, exp: NOW - 61 })), 'ERR_TOKEN_EXPIRED');
    });

    it('a valid token once the clock passes exp + leeway', async () => {
      const t = await token();
      await verifier.verify(t);
      clock.advance((3590 + 61) * 1000);
      await expectInvalidToken(verifier.verify(t), 'ERR_TOKEN_EXPIRED');
    });

    it('iat in the future beyond the leeway', async () => {
      await expectInvalidToken(verifier.verify(await token({ iat: NOW + 61, exp: NOW + 3661 })), 'ERR_CLAIM_IN_FUTURE');
    });

    it('auth_time in the future beyond the leeway', async () => {
      await expectInvalidToken(verifier.verify(await token({ auth_time: NOW + 61 })), 'ERR_CLAIM_IN_FUTURE');
      await expectInvalidToken(verifier.verify(await token({ auth_time: NOW + 86_400 })), 'ERR_CLAIM_IN_FUTURE');
    });

    it.each([
      ['missing', undefined],
      ['a string', String(NOW - 100)],
      ['null', null],
    ])('auth_time %s', async (_label, auth_time) => {
      await expectInvalidToken(verifier.verify(await token({ auth_time })), 'ERR_CLAIM_INVALID');
    });

    it('iat missing', async () => {
      await expectInvalidToken(verifier.verify(await token({ iat: undefined })), 'ERR_CLAIM_INVALID');
    });
  });

  describe('rejects the algorithm and the signature', () => {
    it('alg none, unsigned or with a junk signature', async () => {
      const unsigned = `${b64u({ alg: 'none', kid: key.kid })}.${b64u(claims())}.`;
      const err = await expectInvalidToken(verifier.verify(unsigned));
      expect(['ERR_JWT_MALFORMED', 'ERR_JWT_ALG']).toContain(err.code);
      await expectInvalidToken(verifier.verify(`${unsigned}${b64u('junk')}`), 'ERR_JWT_ALG');
    });

    it('HS256 signed with the RSA public key PEM as the HMAC secret', async () => {
      const pem = key.publicKey.export({ type: 'spki', format: 'pem' }) as string;
      await expectInvalidToken(verifier.verify(hmacToken({ alg: 'HS256', typ: 'JWT', kid: key.kid }, claims(), pem)), 'ERR_JWT_ALG');
      await expectInvalidToken(verifier.verify(hmacToken({ alg: 'RS256', typ: 'JWT', kid: key.kid }, claims(), pem)), 'ERR_JWS_SIGNATURE');
    });

    it('RS512 signed by the real key', async () => {
      await expectInvalidToken(verifier.verify(await joseToken(claims(), key, {}, 'RS512')), 'ERR_JWT_ALG');
    });

    it("a token signed by an attacker's key carrying the real kid", async () => {
      await expectInvalidToken(verifier.verify(await token({}, { kid: key.kid }, attacker)), 'ERR_JWS_SIGNATURE');
    });

    it('a valid token whose sub was changed to another uid', async () => {
      const valid = await token();
      await verifier.verify(valid);
      const tampered = tamperPayload(valid, (p) => {
        p.sub = 'google:100000000000000000001';
        p.user_id = 'google:100000000000000000001';
      });
      await expectInvalidToken(verifier.verify(tampered), 'ERR_JWS_SIGNATURE');
      await expectInvalidToken(verifier.verify(tamperPayload(valid, (p) => (p.admin = true))), 'ERR_JWS_SIGNATURE');
    });

    it('missing kid', async () => {
      await expectInvalidToken(verifier.verify(rawRsaToken({ alg: 'RS256', typ: 'JWT' }, claims(), key.privateKey)), 'ERR_JWT_KID');
    });

    it('unknown kid, even when signed by the published key', async () => {
      await expectInvalidToken(verifier.verify(await token({}, { kid: 'rotated-away' })), 'ERR_KID_UNKNOWN');
      await expectInvalidToken(verifier.verify(await token({}, {}, attacker)), 'ERR_KID_UNKNOWN');
    });

    it('a header with crit', async () => {
      const t = rawRsaToken({ alg: 'RS256', kid: key.kid, crit: ['exp'], exp: NOW }, claims(), key.privateKey);
      await expectInvalidToken(verifier.verify(t), 'ERR_JWT_MALFORMED');
    });

    it('non-string input', async () => {
      for (const input of [undefined, null, 7, {}, ['a.b.c']]) await expectInvalidToken(verifier.verify(input), 'ERR_JWT_MALFORMED');
    });
  });
});
