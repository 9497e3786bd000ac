import { createHash, generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import {
  CUSTOM_TOKEN_TTL_SECONDS,
  FIREBASE_AUDIENCE,
  RESERVED_CLAIMS,
  customTokenPayload,
  claimsBytes,
  googleDeveloperClaims,
} from '../../src/auth/custom-token';
import type { GoogleIdentity } from '../../src/auth/google-id-token-verifier';
import { parseServiceAccountKey } from '../../src/keys/service-account-key';
import { CustomTokenGenerator } from '../../src/auth/custom-token-generator';
import { KeyFileSigner } from '../../src/keys/key-file-signer';
import { HASHED_UID_PREFIX, UID_PREFIX, uidForGoogleSub } from '../../src/auth/uid';
import { InvalidRequestError, KeyFileError, SigningUnavailableError } from '../../src/errors';
import { manualClock } from '../../testkit/harness';
import { type TestKey, generateTestKey } from '../../testkit/keys';

const NOW_MS = 1_750_000_000_000;
const SUB = '110169484474386276334';
/** Firebase's documented reserved claim names (firebase.google.com/docs/auth/admin/create-custom-tokens). */
const DOCUMENTED_RESERVED = ['acr', 'amr', 'at_hash', 'aud', 'auth_time', 'azp', 'cnf', 'c_hash', 'exp', 'iat', 'iss', 'jti', 'nbf', 'nonce', 'firebase', 'sub'];

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function identity(overrides: Partial<GoogleIdentity> = {}): GoogleIdentity {
  return {
    sub: SUB,
    aud: 'web-client.apps.googleusercontent.com',
    iat: 1_750_000_000,
    exp: 1_750_003_600,
    email: 'ada@example.com',
    emailVerified: true,
    name: 'Ada Lovelace',
    picture: 'https://lh3.googleusercontent.com/a/photo',
    hd: 'example.com',
    azp: 'android-client.apps.googleusercontent.com',
    nonce: 'n-0S6_WzA2Mj',
    claims: Object.fromEntries(DOCUMENTED_RESERVED.map((name) => [name, 'x'])),
    ...overrides,
  };
}

describe('uidForGoogleSub', () => {
  it('is google:<sub> for a real Google sub, and stable', () => {
    expect(uidForGoogleSub(SUB)).toBe(`google:${SUB}`);
    expect(uidForGoogleSub(SUB)).toBe(uidForGoogleSub(`${SUB}`.slice(0)));
    expect(UID_PREFIX).toBe('google:');
    expect(uidForGoogleSub('100000000000000000002')).not.toBe(uidForGoogleSub(SUB));
  });

  it('uses the hashed form, at most 128 characters, for a 255-character sub', () => {
    const sub = '7'.repeat(255);
    const uid = uidForGoogleSub(sub);
    expect(uid.length).toBeLessThanOrEqual(128);
    expect(HASHED_UID_PREFIX).toBe('google-sha256:');
    // the public contract: google-sha256:<base64url(sha256(sub))>
    expect(uid).toBe(`google-sha256:${createHash('sha256').update(sub, 'utf8').digest('base64url')}`);
    expect(uidForGoogleSub(sub)).toBe(uid);
    expect(uid.startsWith('google:')).toBe(false);
  });

  it('maps two long subs sharing a long prefix to different uids', () => {
    const prefix = 'a'.repeat(200);
    const one = uidForGoogleSub(`${prefix}${'b'.repeat(55)}`);
    const two = uidForGoogleSub(`${prefix}${'b'.repeat(54)}c`);
    expect(one).not.toBe(two);
    expect(one.length).toBeLessThanOrEqual(128);
    expect(two.length).toBeLessThanOrEqual(128);
  });

  it('keeps the direct form when it is exactly 128 characters, hashes from 129', () => {
    const sub121 = '1'.repeat(121);
    expect(uidForGoogleSub(sub121)).toBe(`google:${sub121}`);
    expect(uidForGoogleSub(sub121)).toHaveLength(128);
    const sub122 = '1'.repeat(122);
    expect(uidForGoogleSub(sub122).startsWith('google-sha256:')).toBe(true);
    expect(uidForGoogleSub(sub122)).not.toBe(uidForGoogleSub(sub121));
  });
});

describe('googleDeveloperClaims', () => {
  it('carries email, email_verified, name, picture, hd and google_sub', () => {
    expect(googleDeveloperClaims(identity())).toEqual({
      google_sub: SUB,
      email: 'ada@example.com',
      email_verified: true,
      name: 'Ada Lovelace',
      picture: 'https://lh3.googleusercontent.com/a/photo',
      hd: 'example.com',
    });
  });

  it('leaves out an email so long that it alone would reach 1000 bytes (and stays under the limit)', () => {
    const claims = googleDeveloperClaims(identity({ email: `${'a'.repeat(1000)}@example.com` }));
    expect(claims.email).toBeUndefined();
    expect(claims.email_verified).toBeUndefined();
    expect(claims.google_sub).toBe(SUB);
    expect(claimsBytes(claims)).toBeLessThan(1000);
    // A long but real-sized (254-character) address is kept.
    const real = `${'b'.repeat(242)}@example.com`;
    expect(googleDeveloperClaims(identity({ email: real })).email).toBe(real);
  });

  it('says email_verified false unless Google verified it, and leaves out what the account lacks', () => {
    expect(googleDeveloperClaims(identity({ emailVerified: undefined })).email_verified).toBe(false);
    expect(googleDeveloperClaims(identity({ emailVerified: false })).email_verified).toBe(false);
    expect(googleDeveloperClaims(identity({ email: undefined, name: undefined, picture: undefined, hd: undefined }))).toEqual({ google_sub: SUB });
  });

  it('never contains a reserved claim name, whatever the identity carries', () => {
    const variants = [
      identity(),
      identity({ email: undefined }),
      identity({ name: 'x'.repeat(5000), hd: 'h'.repeat(900) }),
      identity({ claims: { ...identity().claims, firebase: { tenant: 't' }, sub: 'other' } }),
    ];
    for (const v of variants) {
      const names = Object.keys(googleDeveloperClaims(v));
      for (const name of names) expect(DOCUMENTED_RESERVED).not.toContain(name);
      for (const name of names) expect(RESERVED_CLAIMS.has(name)).toBe(false);
    }
  });

  it('stays under 1000 bytes of JSON with a 254-char email, a 5000-char name, a 290-char picture and a long hd', () => {
    const email = `${'e'.repeat(254 - '@example.com'.length)}@example.com`;
    const name = 'N'.repeat(5000);
    const picture = `https://lh3.googleusercontent.com/${'p'.repeat(290 - 34)}`;
    const hd = `${'d'.repeat(240)}.example.com`;
    expect(email).toHaveLength(254);
    expect(picture).toHaveLength(290);
    for (const sub of [SUB, '9'.repeat(255)]) {
      for (const hdValue of [hd, 'example.com', undefined]) {
        const claims = googleDeveloperClaims(identity({ sub, email, name, picture, hd: hdValue }));
        expect(jsonBytes(claims)).toBeLessThan(1000);
        expect(claims).toMatchObject({ google_sub: sub, email, email_verified: true });
        if (claims.name !== undefined) expect(claims.name).toBe(name.slice(0, 100));
        // An optional item is left out only when it would bring the JSON to 1000 bytes.
        const wanted: Record<string, string | undefined> = { hd: hdValue, name: name.slice(0, 100), picture };
        for (const [item, value] of Object.entries(wanted)) {
          if (value === undefined || item in claims) continue;
          expect(jsonBytes({ ...claims, [item]: value })).toBeGreaterThanOrEqual(1000);
        }
      }
    }
  });

  it('counts bytes, not characters: a multi-byte name is cut or dropped to stay under 1000 bytes', () => {
    const claims = googleDeveloperClaims(
      identity({ email: `${'e'.repeat(242)}@example.com`, name: '€'.repeat(5000), picture: `https://x/${'p'.repeat(280)}`, hd: 'ü'.repeat(120) }),
    );
    expect(jsonBytes(claims)).toBeLessThan(1000);
  });

  it('keeps a 300-character picture and drops a 301-character one', () => {
    const p300 = `https://lh3.googleusercontent.com/${'p'.repeat(300 - 34)}`;
    expect(p300).toHaveLength(300);
    expect(googleDeveloperClaims(identity({ picture: p300 })).picture).toBe(p300);
    const claims = googleDeveloperClaims(identity({ picture: `${p300}q` }));
    expect(claims).not.toHaveProperty('picture');
    expect(claims.name).toBe('Ada Lovelace');
  });

  it('cuts a long name to 100 characters without splitting a character (no lone surrogate)', () => {
    const name = `${'a'.repeat(99)}😀${'b'.repeat(50)}`;
    const claims = googleDeveloperClaims(identity({ name }));
    expect(typeof claims.name).toBe('string');
    expect(claims.name as string).not.toMatch(LONE_SURROGATE);
    expect(name.startsWith(claims.name as string)).toBe(true);
    expect((claims.name as string).length).toBeGreaterThanOrEqual(99);
  });
});

describe('customTokenPayload', () => {
  const EMAIL = 'firebase-adminsdk-abcde@fb-test-project.iam.gserviceaccount.com';
  const NOW = 1_750_000_000;

  it('is the documented custom token payload', () => {
    const payload = customTokenPayload(EMAIL, `google:${SUB}`, { email: 'ada@example.com' }, NOW);
    expect(payload).toEqual({
      iss: EMAIL,
      sub: EMAIL,
      aud: FIREBASE_AUDIENCE,
      iat: NOW,
      exp: NOW + 3600,
      uid: `google:${SUB}`,
      claims: { email: 'ada@example.com' },
    });
    expect(FIREBASE_AUDIENCE).toBe('https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit');
    expect((payload.exp as number) - (payload.iat as number)).toBe(3600);
    expect(CUSTOM_TOKEN_TTL_SECONDS).toBe(3600);
  });

  it('leaves claims out when there are none', () => {
    expect(customTokenPayload(EMAIL, 'u', {}, NOW)).not.toHaveProperty('claims');
  });

  it('accepts uids of 1 and 128 characters, rejects 0 and 129', () => {
    expect(customTokenPayload(EMAIL, 'u', {}, NOW).uid).toBe('u');
    expect(customTokenPayload(EMAIL, 'u'.repeat(128), {}, NOW).uid).toBe('u'.repeat(128));
    for (const uid of ['', 'u'.repeat(129)]) {
      let error: unknown;
      try {
        customTokenPayload(EMAIL, uid, {}, NOW);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect((error as InvalidRequestError).status).toBe(400);
    }
  });

  it('RESERVED_CLAIMS holds every name Firebase reserves', () => {
    expect([...RESERVED_CLAIMS].sort()).toEqual([...DOCUMENTED_RESERVED].sort());
  });

  it.each(DOCUMENTED_RESERVED)('rejects the reserved claim name %s', (name) => {
    expect(() => customTokenPayload(EMAIL, 'u', { role: 'admin', [name]: 'x' }, NOW)).toThrow(InvalidRequestError);
  });

  it('rejects claims of 1000 bytes of JSON or more, accepts 999', () => {
    const of = (n: number) => ({ x: 'a'.repeat(n - 8) });
    expect(jsonBytes(of(999))).toBe(999);
    expect(jsonBytes(of(1000))).toBe(1000);
    expect(customTokenPayload(EMAIL, 'u', of(999), NOW).claims).toEqual(of(999));
    expect(() => customTokenPayload(EMAIL, 'u', of(1000), NOW)).toThrow(InvalidRequestError);
    expect(() => customTokenPayload(EMAIL, 'u', of(5000), NOW)).toThrow(InvalidRequestError);
    // bytes, not characters: 400 three-byte characters are 1200 bytes
    expect(() => customTokenPayload(EMAIL, 'u', { x: '€'.repeat(400) }, NOW)).toThrow(InvalidRequestError);
  });
});

describe('service account key and signer', () => {
  let key: TestKey;
  let next: TestKey;
  let weak: TestKey;
  let ecPem: string;
  let json: Record<string, string>;
  const FILE = '/keys/sa.json';
  const EMAIL = 'firebase-adminsdk-abcde@fb-test-project.iam.gserviceaccount.com';

  const keyJson = (k: TestKey, overrides: Record<string, unknown> = {}) => ({
    type: 'service_account',
    project_id: 'fb-test-project',
    private_key_id: k.kid,
    private_key: k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    client_email: EMAIL,
    client_id: '1234567890',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: 'https://oauth2.googleapis.com/token',
    ...overrides,
  });

  beforeAll(() => {
    key = generateTestKey();
    next = generateTestKey();
    weak = generateTestKey(1024);
    ecPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    json = keyJson(key);
  });

  describe('parseServiceAccountKey', () => {
    it('reads a key file as Google writes it', () => {
      const parsed = parseServiceAccountKey(JSON.stringify(json), FILE);
      expect(parsed).toMatchObject({ projectId: 'fb-test-project', clientEmail: EMAIL, privateKeyId: key.kid, file: FILE });
      expect(parsed.privateKey.type).toBe('private');
      expect(
        parsed.privateKey.export({ type: 'pkcs8', format: 'der' }).equals(key.privateKey.export({ type: 'pkcs8', format: 'der' })),
      ).toBe(true);
    });

    function rejection(text: string): KeyFileError {
      let error: unknown;
      try {
        parseServiceAccountKey(text, FILE);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(KeyFileError);
      const e = error as KeyFileError;
      expect(e.code).toBe('ERR_KEY_FILE');
      expect(e.file).toBe(FILE);
      expect(e.message).toContain(FILE);
      return e;
    }

    /** No line of any PEM in play reaches the message, the stack or an inspection of the error. */
    function expectNoKeyMaterial(error: KeyFileError, ...pems: string[]): void {
      const rendered = [error.message, error.stack ?? '', String(error), inspect(error, { depth: 5 }), JSON.stringify(error)].join('\n');
      for (const pem of pems) {
        for (const line of pem.split('\n').map((l) => l.trim()).filter(Boolean)) {
          expect(rendered).not.toContain(line);
        }
      }
    }

    it.each(['not json', '', '{', '{"type": "service_account",', `${'{'.repeat(10)}`])('rejects junk JSON %p', (text) => {
      rejection(text);
    });

    it.each(['[]', 'null', '"service_account"', '42'])('rejects a non-object document %p', (text) => {
      rejection(text);
    });

    it.each([['authorized_user'], ['external_account'], [undefined], [42]])('rejects type %p', (type) => {
      const e = rejection(JSON.stringify({ ...json, type }));
      expectNoKeyMaterial(e, json.private_key as string);
    });

    it.each(['project_id', 'client_email', 'private_key_id', 'private_key'])('rejects a file missing %s (absent, empty, blank, non-string)', (field) => {
      for (const value of [undefined, '', '   ', 12, null]) {
        const doc: Record<string, unknown> = { ...json, [field]: value };
        if (value === undefined) delete doc[field];
        const e = rejection(JSON.stringify(doc));
        expect(e.message).toContain(field);
        expectNoKeyMaterial(e, json.private_key as string);
      }
    });

    it('rejects a client_email that is not an email address', () => {
      expectNoKeyMaterial(rejection(JSON.stringify({ ...json, client_email: 'not-an-email' })), json.private_key as string);
    });

    it('rejects a truncated private key (cut in half), without echoing it', () => {
      const pem = json.private_key as string;
      const half = pem.slice(0, Math.floor(pem.length / 2));
      expectNoKeyMaterial(rejection(JSON.stringify({ ...json, private_key: half })), pem, half);
    });

    it('rejects a key whose PEM imports but is corrupt (damaged modulus): it could sign nothing verifiable', () => {
      const pem = json.private_key as string;
      const lines = pem.split('\n');
      // Line 3 lies inside the modulus: reversed, the key still imports but its parts no longer match.
      lines[3] = (lines[3] as string).split('').reverse().join('');
      const corrupt = lines.join('\n');
      const e = rejection(JSON.stringify({ ...json, private_key: corrupt }));
      expect(e.message).toMatch(/corrupt/);
      expectNoKeyMaterial(e, pem, corrupt);
    });

    it('rejects a 1024-bit RSA key', () => {
      const pem = weak.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      expectNoKeyMaterial(rejection(JSON.stringify(keyJson(weak))), pem);
    });

    it('rejects an EC key', () => {
      expectNoKeyMaterial(rejection(JSON.stringify({ ...json, private_key: ecPem })), ecPem);
    });

    it('rejects a public key where the private key belongs', () => {
      const pub = key.publicKey.export({ type: 'spki', format: 'pem' }) as string;
      expectNoKeyMaterial(rejection(JSON.stringify({ ...json, private_key: pub })), pub);
    });
  });

  describe('CustomTokenGenerator with a KeyFileSigner: mint', () => {
    it('mints an RS256 token with kid = private_key_id that jose verifies with the public key', async () => {
      const clock = manualClock(NOW_MS);
      const signer = keyFileMinter(parseServiceAccountKey(JSON.stringify(json), FILE), clock);
      expect(signer.isReady()).toBe(true);
      const minted = await signer.mint(`google:${SUB}`, { email: 'ada@example.com', email_verified: true });
      expect(minted.kid).toBe(key.kid);
      expect(minted.expiresIn).toBe(3600);
      expect(decodeProtectedHeader(minted.customToken)).toMatchObject({ alg: 'RS256', kid: key.kid });
      const { payload } = await jwtVerify(minted.customToken, key.publicKey, {
        algorithms: ['RS256'],
        audience: FIREBASE_AUDIENCE,
        issuer: EMAIL,
        subject: EMAIL,
        currentDate: new Date(NOW_MS),
      });
      expect(payload).toEqual({
        iss: EMAIL,
        sub: EMAIL,
        aud: FIREBASE_AUDIENCE,
        iat: NOW_MS / 1000,
        exp: NOW_MS / 1000 + 3600,
        uid: `google:${SUB}`,
        claims: { email: 'ada@example.com', email_verified: true },
      });
      // and not by any other key
      await expect(jwtVerify(minted.customToken, next.publicKey, { algorithms: ['RS256'], currentDate: new Date(NOW_MS) })).rejects.toThrow();
    });

    it('signs with the new key after setKey (rotation)', async () => {
      const signer = keyFileMinter(parseServiceAccountKey(JSON.stringify(json), FILE), manualClock(NOW_MS));
      signer.setKey(parseServiceAccountKey(JSON.stringify(keyJson(next)), FILE));
      const minted = await signer.mint('u', {});
      expect(minted.kid).toBe(next.kid);
      expect(decodeProtectedHeader(minted.customToken).kid).toBe(next.kid);
      await expect(jwtVerify(minted.customToken, next.publicKey, { algorithms: ['RS256'], currentDate: new Date(NOW_MS) })).resolves.toBeDefined();
    });

    it('refuses to sign a reserved claim or an invalid uid', async () => {
      const signer = keyFileMinter(parseServiceAccountKey(JSON.stringify(json), FILE), manualClock(NOW_MS));
      await expect(signer.mint('u', { firebase: {} })).rejects.toBeInstanceOf(InvalidRequestError);
      await expect(signer.mint('', {})).rejects.toBeInstanceOf(InvalidRequestError);
    });

    it('throws SigningUnavailableError when no key is loaded', async () => {
      const signer = keyFileMinter(undefined, manualClock(NOW_MS));
      expect(signer.isReady()).toBe(false);
      const rejection = signer.mint('u', {});
      await expect(rejection).rejects.toBeInstanceOf(SigningUnavailableError);
      await expect(signer.mint('u', {})).rejects.toMatchObject({ code: 'ERR_SIGNING_UNAVAILABLE', status: 503 });
    });
  });
});

/** The key-file signer behind the custom-token generator, as the server composes them. */
function keyFileMinter(key: ConstructorParameters<typeof KeyFileSigner>[0], clock: () => number) {
  const signer = new KeyFileSigner(key);
  const minter = new CustomTokenGenerator(signer, clock);
  return {
    isReady: () => minter.isReady(),
    mint: (uid: string, claims: Parameters<CustomTokenGenerator['mint']>[1]) => minter.mint(uid, claims),
    setKey: (next: Parameters<KeyFileSigner['setKey']>[0]) => signer.setKey(next),
  };
}
