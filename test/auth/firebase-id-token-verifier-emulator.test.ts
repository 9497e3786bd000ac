import { FirebaseIdTokenVerifier } from '../../src/auth/firebase-id-token-verifier';
import { InvalidTokenError } from '../../src/errors';
import { KeySetCache } from '../../src/jwt/key-set-cache';
import type { KeySetSource } from '../../src/jwt/key-set-source';
import { manualClock } from '../../testkit/harness';
import { type TestKey, generateTestKey } from '../../testkit/keys';
import { b64u, expectInvalidToken, joseToken, silentLogger, tamperPayload, unsignedToken } from '../../testkit/jwt-forge';

/**
 * FIREBASE_AUTH_EMULATOR_HOST: the verifier accepts the emulator's unsigned tokens (alg none, an
 * empty signature), and every claim check still applies to them; signed tokens are still
 * signature-checked. Without it, an unsigned token is refused with a description naming the setting.
 */
const PROJECT = 'demo-firebridge-emu';
const ISSUER = `https://securetoken.google.com/${PROJECT}`;
const NOW_MS = 1_750_000_000_000;
const NOW = NOW_MS / 1000;
const UID = 'google:110169484474386276334';
const UNSIGNED_REFUSAL = 'this is an unsigned Auth Emulator token; set FIREBASE_AUTH_EMULATOR_HOST for local development';

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    iss: ISSUER,
    aud: PROJECT,
    auth_time: NOW - 100,
    user_id: UID,
    sub: UID,
    iat: NOW - 10,
    exp: NOW + 3590,
    firebase: { identities: {}, sign_in_provider: 'custom' },
    ...overrides,
  };
  for (const [name, value] of Object.entries(base)) if (value === undefined) delete base[name];
  return base;
}

/** A key set that counts its loads: unsigned tokens must never cause one. */
function countingKeys(keys: TestKey[], clock: () => number): { cache: KeySetCache; loads: () => number } {
  let loads = 0;
  const source: KeySetSource = {
    name: 'counting',
    load: async () => {
      loads += 1;
      return { keys: new Map(keys.map((k) => [k.kid, k.publicKey])), maxAgeMs: 3_600_000 };
    },
  };
  const cache = new KeySetCache({ source, logger: silentLogger(), clock, cooldownMs: 30_000, maxStaleMs: 3_600_000 });
  return { cache, loads: () => loads };
}

describe('FirebaseIdTokenVerifier with the Auth Emulator (acceptUnsignedEmulatorTokens)', () => {
  let key: TestKey;
  let attacker: TestKey;
  let clock: ReturnType<typeof manualClock>;
  let loads: () => number;
  let emulator: FirebaseIdTokenVerifier;

  beforeAll(() => {
    key = generateTestKey();
    attacker = generateTestKey();
  });

  beforeEach(() => {
    clock = manualClock(NOW_MS);
    const keys = countingKeys([key], clock);
    loads = keys.loads;
    emulator = new FirebaseIdTokenVerifier({ keys: keys.cache, projectId: PROJECT, skewSeconds: 60, clock, acceptUnsignedEmulatorTokens: true });
  });

  it('accepts an unsigned token for the project: uid, every claim, exp; no key set is fetched', async () => {
    await expect(emulator.verify(unsignedToken(claims()))).resolves.toEqual({ uid: UID, claims: claims(), exp: NOW + 3590 });
    expect(loads()).toBe(0);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['aud: another project', { aud: 'another-project-2' }, 'ERR_CLAIM_AUD'],
    ['aud missing', { aud: undefined }, 'ERR_CLAIM_AUD'],
    ['aud an array', { aud: [PROJECT] }, 'ERR_CLAIM_AUD'],
    ['iss: another project', { iss: 'https://securetoken.google.com/another-project-2' }, 'ERR_CLAIM_ISS'],
    ['iss: Google', { iss: 'https://accounts.google.com' }, 'ERR_CLAIM_ISS'],
    ['iss missing', { iss: undefined }, 'ERR_CLAIM_ISS'],
    ['exp past (beyond the leeway)', { exp: NOW - 61, iat: NOW - 3000 }, 'ERR_TOKEN_EXPIRED'],
    ['exp missing', { exp: undefined }, 'ERR_CLAIM_INVALID'],
    ['exp a string', { exp: String(NOW + 3590) }, 'ERR_CLAIM_INVALID'],
    ['iat in the future', { iat: NOW + 120 }, 'ERR_CLAIM_IN_FUTURE'],
    ['iat missing', { iat: undefined }, 'ERR_CLAIM_INVALID'],
    ['lifetime over one hour', { iat: NOW - 10, exp: NOW + 7200 }, 'ERR_CLAIM_INVALID'],
    ['auth_time in the future', { auth_time: NOW + 120 }, 'ERR_CLAIM_IN_FUTURE'],
    ['auth_time missing', { auth_time: undefined }, 'ERR_CLAIM_INVALID'],
    ['nbf in the future', { nbf: NOW + 120 }, 'ERR_CLAIM_IN_FUTURE'],
    ['sub empty', { sub: '' }, 'ERR_CLAIM_SUB'],
    ['sub missing', { sub: undefined }, 'ERR_CLAIM_SUB'],
    ['sub over 128 characters', { sub: 'u'.repeat(129) }, 'ERR_CLAIM_SUB'],
    ['sub a number', { sub: 42 }, 'ERR_CLAIM_SUB'],
    ['a tenant, when the server has none', { firebase: { sign_in_provider: 'custom', tenant: 'tenant-1-abcde' } }, 'ERR_CLAIM_TENANT'],
  ])('refuses an unsigned token with %s', async (_name, overrides, code) => {
    const err = await expectInvalidToken(emulator.verify(unsignedToken(claims(overrides))), code);
    // Its own precise reason, never the "set FIREBASE_AUTH_EMULATOR_HOST" hint: the setting is on.
    expect(err.message).not.toContain('FIREBASE_AUTH_EMULATOR_HOST');
    expect(loads()).toBe(0);
  });

  it('still checks the tenant of unsigned tokens when the server has one', async () => {
    const tenant = new FirebaseIdTokenVerifier({
      keys: countingKeys([key], clock).cache,
      projectId: PROJECT,
      skewSeconds: 60,
      clock,
      tenantId: 'tenant-1-abcde',
      acceptUnsignedEmulatorTokens: true,
    });
    await expectInvalidToken(tenant.verify(unsignedToken(claims())), 'ERR_CLAIM_TENANT');
    await expectInvalidToken(tenant.verify(unsignedToken(claims({ firebase: { tenant: 'tenant-2-other' } }))), 'ERR_CLAIM_TENANT');
    await expect(tenant.verify(unsignedToken(claims({ firebase: { tenant: 'tenant-1-abcde' } })))).resolves.toMatchObject({ uid: UID });
  });

  it('refuses the time checks as the clock moves, exactly as for signed tokens', async () => {
    const token = unsignedToken(claims());
    await expect(emulator.verify(token)).resolves.toMatchObject({ uid: UID });
    clock.set((NOW + 3590 + 60) * 1000);
    await expectInvalidToken(emulator.verify(token), 'ERR_TOKEN_EXPIRED');
  });

  it('an unsigned token is exactly alg "none" with an empty signature part', async () => {
    for (const [token, code] of [
      // An empty signature with an alg that needs one.
      [unsignedToken(claims(), { alg: 'RS256', kid: key.kid }), 'ERR_JWT_ALG'],
      [unsignedToken(claims(), { alg: 'HS256' }), 'ERR_JWT_ALG'],
      [unsignedToken(claims(), { alg: 'None' }), 'ERR_JWT_ALG'],
      [unsignedToken(claims(), { typ: 'JWT' }), 'ERR_JWT_ALG'],
      // alg none with a signature part: not the emulator's; RS256 is pinned for signed tokens.
      [`${unsignedToken(claims())}c2ln`, 'ERR_JWT_ALG'],
      // crit, as for signed tokens.
      [unsignedToken(claims(), { alg: 'none', crit: ['exp'] }), 'ERR_JWT_MALFORMED'],
      // Shapes that only look unsigned.
      [`${b64u({ alg: 'none' })}.${b64u(claims())}..`, 'ERR_JWT_MALFORMED'],
      [`${b64u({ alg: 'none' })}..`, 'ERR_JWT_MALFORMED'],
      [`${b64u({ alg: 'none' })}=.${b64u(claims())}.`, 'ERR_JWT_MALFORMED'],
      [`${b64u('[1]')}.${b64u(claims())}.`, 'ERR_JWT_MALFORMED'],
      [`${b64u({ alg: 'none' })}.${b64u('"x"')}.`, 'ERR_JWT_MALFORMED'],
      ['.', 'ERR_JWT_MALFORMED'],
      [`${b64u({ alg: 'none' })}.${b64u({ ...claims(), pad: 'x'.repeat(17_000) })}.`, 'ERR_JWT_MALFORMED'],
    ] as const) {
      await expectInvalidToken(emulator.verify(token), code);
    }
  });

  it('a signed token is still signature-checked (and its key set fetched)', async () => {
    const signed = await joseToken(claims(), key);
    await expect(emulator.verify(signed)).resolves.toMatchObject({ uid: UID });
    expect(loads()).toBe(1);
    // Another key with our kid, a tampered payload, a stripped-then-resigned alg: all refused.
    await expectInvalidToken(emulator.verify(await joseToken(claims(), attacker, { kid: key.kid })), 'ERR_JWS_SIGNATURE');
    await expectInvalidToken(emulator.verify(tamperPayload(signed, (p) => (p.sub = 'someone-else'))), 'ERR_JWS_SIGNATURE');
    // A signed token's header switched to alg none but its signature kept: not unsigned, and RS256 is pinned.
    const [, payload, signature] = signed.split('.') as [string, string, string];
    await expectInvalidToken(emulator.verify(`${b64u({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`), 'ERR_JWT_ALG');
  });

  it('without the setting, an unsigned token is refused with a description naming it, and no key set is fetched', async () => {
    const keys = countingKeys([key], clock);
    const production = new FirebaseIdTokenVerifier({ keys: keys.cache, projectId: PROJECT, skewSeconds: 60, clock });
    const err = await expectInvalidToken(production.verify(unsignedToken(claims())), 'ERR_JWT_ALG');
    expect(err).toBeInstanceOf(InvalidTokenError);
    expect(err.message).toBe(UNSIGNED_REFUSAL);
    expect(keys.loads()).toBe(0);
    // The same with acceptUnsignedEmulatorTokens: false.
    const off = new FirebaseIdTokenVerifier({ keys: keys.cache, projectId: PROJECT, skewSeconds: 60, clock, acceptUnsignedEmulatorTokens: false });
    expect((await expectInvalidToken(off.verify(unsignedToken(claims())), 'ERR_JWT_ALG')).message).toBe(UNSIGNED_REFUSAL);
  });
});
