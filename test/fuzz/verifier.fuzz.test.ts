/**
 * Fuzz/property test of the two verifiers (hardening issue: "token parsing never throws out of the
 * handler"). Thousands of random and mutated tokens go to GoogleIdTokenVerifier.verify and
 * FirebaseIdTokenVerifier.verify; each must reject with InvalidTokenError, or accept only a token
 * that is byte for byte the valid one (for signed random claims: only claims the documented rules
 * admit). Every property runs with a fixed seed (FUZZ_SEED, see arbitraries.ts).
 */
import { sign as cryptoSign } from 'node:crypto';
import fc from 'fast-check';
import { FirebaseIdTokenVerifier } from '../../src/auth/firebase-id-token-verifier';
import { GoogleIdTokenVerifier } from '../../src/auth/google-id-token-verifier';
import { InvalidTokenError } from '../../src/errors';
import { joseToken, staticCache } from '../../testkit/jwt-forge';
import { manualClock } from '../../testkit/harness';
import { type TestKey, generateTestKey } from '../../testkit/keys';
import {
  anyClaimValue,
  b64Segment,
  b64u,
  checkProperty,
  claimsArb,
  eventLoopMonitor,
  headerArb,
  minDurationMs,
  mutationArb,
  rawJsonPayloadArb,
  yieldToLoop,
} from './arbitraries';

const WEB = 'web-client.apps.googleusercontent.com';
const IOS = 'ios-client.apps.googleusercontent.com';
const PROJECT = 'fuzz-project-1';
const NOW_MS = 1_750_000_000_000;
const NOW = NOW_MS / 1000;
const SKEW = 60;

type Verify = (token: unknown) => Promise<unknown>;
type Outcome = { accepted: true } | { accepted: false; error: unknown };

async function outcome(verify: Verify, token: unknown): Promise<Outcome> {
  try {
    await verify(token);
    return { accepted: true };
  } catch (error) {
    return { accepted: false, error };
  }
}

function describeInput(token: unknown): string {
  const text = typeof token === 'string' ? token : String(JSON.stringify(token));
  return text.length > 300 ? `${text.slice(0, 300)}... (${text.length} chars)` : text;
}

/** The one property every input must satisfy: a clean InvalidTokenError, or acceptance of `valid` itself. */
function assertRefusedOrValid(result: Outcome, token: unknown, valid: string | undefined, who: string): void {
  if (result.accepted) {
    if (token !== valid) throw new Error(`${who} accepted a token that is not the valid one: ${describeInput(token)}`);
    return;
  }
  const { error } = result;
  if (!(error instanceof InvalidTokenError)) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error);
    throw new Error(`${who} threw something other than InvalidTokenError for ${describeInput(token)}: ${detail}`);
  }
  if (error.status !== 401 || typeof error.message !== 'string' || error.message === '' || typeof error.code !== 'string') {
    throw new Error(`${who}: malformed InvalidTokenError ${JSON.stringify({ status: error.status, code: error.code, message: error.message })}`);
  }
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** README, "POST /v1/token/google": what an accepted Google ID token must satisfy (independent oracle). */
function googleRulesHold(p: Record<string, unknown>): boolean {
  return (
    (p.iss === 'accounts.google.com' || p.iss === 'https://accounts.google.com') &&
    (p.aud === WEB || p.aud === IOS) &&
    isTime(p.exp) &&
    isTime(p.iat) &&
    p.exp + SKEW > NOW &&
    p.iat <= NOW + SKEW &&
    p.exp - p.iat <= 3600 + SKEW &&
    (p.nbf === undefined || (isTime(p.nbf) && p.nbf <= NOW + SKEW)) &&
    typeof p.sub === 'string' &&
    p.sub.length > 0
  );
}

/** README, "GET /v1/me": what an accepted Firebase ID token must satisfy (independent oracle). */
function firebaseRulesHold(p: Record<string, unknown>): boolean {
  return (
    p.aud === PROJECT &&
    p.iss === `https://securetoken.google.com/${PROJECT}` &&
    typeof p.sub === 'string' &&
    p.sub.length > 0 &&
    p.sub.length <= 128 &&
    isTime(p.exp) &&
    isTime(p.iat) &&
    isTime(p.auth_time) &&
    p.exp + SKEW > NOW &&
    p.iat <= NOW + SKEW &&
    p.exp - p.iat <= 3600 + SKEW &&
    p.auth_time <= NOW + SKEW &&
    (typeof p.firebase !== 'object' || p.firebase === null || (p.firebase as Record<string, unknown>).tenant === undefined)
  );
}

function rs256(headerSegment: string, payloadSegment: string, key: TestKey): string {
  const input = `${headerSegment}.${payloadSegment}`;
  return `${input}.${cryptoSign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
}

describe('fuzz: the verifiers only ever refuse with InvalidTokenError', () => {
  let googleKey: TestKey;
  let firebaseKey: TestKey;
  let attacker: TestKey;
  let google: Verify;
  let firebase: Verify;
  let validGoogle: string;
  let validFirebase: string;
  let googleClaims: Record<string, unknown>;
  let firebaseClaims: Record<string, unknown>;
  let kids: string[];
  let monitor: ReturnType<typeof eventLoopMonitor>;

  beforeAll(async () => {
    googleKey = generateTestKey();
    firebaseKey = generateTestKey();
    attacker = generateTestKey();
    kids = [googleKey.kid, firebaseKey.kid, attacker.kid];
    const clock = manualClock(NOW_MS);
    const googleVerifier = new GoogleIdTokenVerifier({ keys: staticCache([googleKey], clock), clientIds: [WEB, IOS], skewSeconds: SKEW, clock });
    const firebaseVerifier = new FirebaseIdTokenVerifier({ keys: staticCache([firebaseKey], clock), projectId: PROJECT, skewSeconds: SKEW, clock });
    google = (t) => googleVerifier.verify(t);
    firebase = (t) => firebaseVerifier.verify(t);
    googleClaims = {
      iss: 'https://accounts.google.com',
      azp: 'android-client.apps.googleusercontent.com',
      aud: WEB,
      sub: '110169484474386276334',
      email: 'ada@example.com',
      email_verified: true,
      name: 'Ada Lovelace',
      iat: NOW - 10,
      exp: NOW + 3590,
    };
    firebaseClaims = {
      iss: `https://securetoken.google.com/${PROJECT}`,
      aud: PROJECT,
      auth_time: NOW - 20,
      user_id: 'google:110169484474386276334',
      sub: 'google:110169484474386276334',
      iat: NOW - 10,
      exp: NOW + 3590,
      firebase: { identities: {}, sign_in_provider: 'custom' },
    };
    validGoogle = await joseToken(googleClaims, googleKey);
    validFirebase = await joseToken(firebaseClaims, firebaseKey);
    // Sanity: the valid tokens pass, so the properties below are not vacuous.
    await google(validGoogle);
    await firebase(validFirebase);
    monitor = eventLoopMonitor();
  });

  /** Runs one input through both verifiers. */
  async function both(token: unknown): Promise<void> {
    assertRefusedOrValid(await outcome(google, token), token, validGoogle, 'GoogleIdTokenVerifier');
    assertRefusedOrValid(await outcome(firebase, token), token, validFirebase, 'FirebaseIdTokenVerifier');
    await yieldToLoop();
  }

  it('arbitrary strings and non-string values (3,000 runs)', async () => {
    const input = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 600 }),
      fc.string({ unit: 'grapheme', maxLength: 200 }),
      fc.string({ unit: fc.constantFrom('.', 'A', '-', '_', '=', ' ', 'e', 'y', 'J'), maxLength: 100 }),
      fc.anything(),
    );
    await checkProperty('arbitrary input', fc.asyncProperty(input, both), 3000);
  });

  it('arbitrary three-part base64url strings (3,000 runs)', async () => {
    const input = fc.tuple(b64Segment, b64Segment, b64Segment).map((parts) => parts.join('.'));
    await checkProperty('three base64url parts', fc.asyncProperty(input, both), 3000);
  });

  it('random JSON headers and claims with random or borrowed signatures (2,500 runs)', async () => {
    const signature = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 300 }).map((b) => Buffer.from(b).toString('base64url')),
      fc.constant(validGoogle.split('.')[2] as string),
      fc.constant(validFirebase.split('.')[2] as string),
      fc.constant(''),
    );
    const payloadSegment = fc.oneof(
      claimsArb(googleClaims).map(b64u),
      claimsArb(firebaseClaims).map(b64u),
      rawJsonPayloadArb(googleClaims).map(b64u),
      rawJsonPayloadArb(firebaseClaims).map(b64u),
      anyClaimValue.map(b64u),
    );
    const headerSegment = fc.oneof({ weight: 5, arbitrary: headerArb(kids).map(b64u) }, { weight: 1, arbitrary: anyClaimValue.map(b64u) });
    const input = fc.tuple(headerSegment, payloadSegment, signature).map((parts) => parts.join('.'));
    await checkProperty('random JSON header/claims', fc.asyncProperty(input, both), 2500);
  });

  it('random claims correctly signed by the real key: accepted only when the documented rules hold (2 x 300 runs)', async () => {
    const goodHeader = (key: TestKey) => b64u({ alg: 'RS256', kid: key.kid, typ: 'JWT' });
    const googleInput = fc.oneof(claimsArb(googleClaims).map(b64u), rawJsonPayloadArb(googleClaims).map((raw) => Buffer.from(raw).toString('base64url')));
    let accepted = 0;
    await checkProperty(
      'signed random Google claims',
      fc.asyncProperty(googleInput, async (payloadSegment) => {
        const token = rs256(goodHeader(googleKey), payloadSegment, googleKey);
        const result = await outcome(google, token);
        if (result.accepted) {
          const payload = JSON.parse(Buffer.from(payloadSegment, 'base64url').toString('utf8')) as Record<string, unknown>;
          if (!googleRulesHold(payload)) throw new Error(`Google verifier accepted claims the rules refuse: ${JSON.stringify(payload)}`);
          accepted += 1;
        } else {
          assertRefusedOrValid(result, token, undefined, 'GoogleIdTokenVerifier');
        }
        await yieldToLoop();
      }),
      300,
    );
    const firebaseInput = fc.oneof(
      claimsArb(firebaseClaims).map(b64u),
      rawJsonPayloadArb(firebaseClaims).map((raw) => Buffer.from(raw).toString('base64url')),
    );
    await checkProperty(
      'signed random Firebase claims',
      fc.asyncProperty(firebaseInput, async (payloadSegment) => {
        const token = rs256(goodHeader(firebaseKey), payloadSegment, firebaseKey);
        const result = await outcome(firebase, token);
        if (result.accepted) {
          const payload = JSON.parse(Buffer.from(payloadSegment, 'base64url').toString('utf8')) as Record<string, unknown>;
          if (!firebaseRulesHold(payload)) throw new Error(`Firebase verifier accepted claims the rules refuse: ${JSON.stringify(payload)}`);
          accepted += 1;
        } else {
          assertRefusedOrValid(result, token, undefined, 'FirebaseIdTokenVerifier');
        }
        await yieldToLoop();
      }),
      300,
    );
    // Not vacuous: a fair share of the random claim sets were valid and did pass.
    expect(accepted).toBeGreaterThan(30);
  });

  it('random headers on valid claims, signed by the real key or an attacker key with a real kid (400 runs)', async () => {
    const input = fc.tuple(headerArb(kids), fc.boolean(), fc.boolean()).map(([header, forFirebase, byAttacker]) => {
      const key = forFirebase ? firebaseKey : googleKey;
      return rs256(b64u(header), b64u(forFirebase ? firebaseClaims : googleClaims), byAttacker ? attacker : key);
    });
    await checkProperty(
      'random headers, real signatures',
      fc.asyncProperty(input, async (token) => {
        for (const [verify, who] of [
          [google, 'GoogleIdTokenVerifier'],
          [firebase, 'FirebaseIdTokenVerifier'],
        ] as const) {
          const result = await outcome(verify, token);
          if (result.accepted) {
            // Only a header that says RS256, names the right kid and has no crit may pass.
            const header = JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
            const expectedKid = who === 'GoogleIdTokenVerifier' ? googleKey.kid : firebaseKey.kid;
            if (header.alg !== 'RS256' || header.kid !== expectedKid || header.crit !== undefined) {
              throw new Error(`${who} accepted header ${JSON.stringify(header)}`);
            }
          } else {
            assertRefusedOrValid(result, token, undefined, who);
          }
        }
        await yieldToLoop();
      }),
      400,
    );
  });

  it('mutations of a valid token are refused unless they are the valid token itself (2 x 3,000 runs)', async () => {
    await checkProperty('mutated Google token', fc.asyncProperty(mutationArb(validGoogle), both), 3000);
    await checkProperty('mutated Firebase token', fc.asyncProperty(mutationArb(validFirebase), both), 3000);
  });

  it('no single hostile input costs more than a few ms to refuse', async () => {
    const header = b64u({ alg: 'RS256', kid: googleKey.kid, typ: 'JWT' });
    const sig = validGoogle.split('.')[2] as string;
    const fill = (prefix: string, suffix: string, total: number, unit: string) =>
      prefix + unit.repeat(Math.floor((total - prefix.length - suffix.length) / unit.length)) + suffix;
    // A payload segment sized so the whole token is exactly 16 KiB (the largest the decoder parses).
    const room = 16 * 1024 - header.length - sig.length - 2;
    const jsonBytes = Math.floor((room * 3) / 4) - 3;
    const nestedArrays = (n: number) => `{"sub":${'['.repeat(n)}${']'.repeat(n)}}`;
    const depth = Math.floor((jsonBytes - 10) / 2);
    const manyKeys = `{${Array.from({ length: 1200 }, (_, i) => `"k${i}":${i}`).join(',')}}`.slice(0, jsonBytes - 1);
    const hostile: Array<[string, string]> = [
      ['a 16 KiB token of base64url', fill(`${header}.`, `.${sig}`, 16 * 1024, 'A')],
      ['a 16 KiB + 1 token', `${fill(`${header}.`, `.${sig}`, 16 * 1024, 'A')}A`],
      ['a 1 MiB string', 'A'.repeat(1024 * 1024)],
      ['16 Ki dots', '.'.repeat(16 * 1024)],
      ['a deeply nested JSON payload (~6,000 levels)', `${header}.${b64u(nestedArrays(depth))}.${sig}`],
      ['a deeply nested JSON header', `${b64u(nestedArrays(depth))}.${validGoogle.split('.')[1]}.${sig}`],
      ['a payload of 1,000+ claims', `${header}.${b64u(manyKeys.endsWith('}') ? manyKeys : `${manyKeys.replace(/,[^,]*$/, '')}}`)}.${sig}`],
      ['a payload of escaped NULs', `${header}.${b64u(`{"sub":"${'\\u0000'.repeat(Math.floor(jsonBytes / 6) - 4)}"}`)}.${sig}`],
      ['a 16 KiB kid', `${b64u({ alg: 'RS256', kid: 'k'.repeat(12_000) })}.${validGoogle.split('.')[1]}.${sig}`],
      ['a huge exp literal', `${header}.${b64u(`{"exp":1${'0'.repeat(jsonBytes - 20)}}`)}.${sig}`],
      ['valid header and claims with a 12 KiB signature', `${validGoogle.split('.').slice(0, 2).join('.')}.${'A'.repeat(12_000)}`],
    ];
    for (const [what, token] of hostile) {
      assertRefusedOrValid(await outcome(google, token), token, undefined, `GoogleIdTokenVerifier (${what})`);
      assertRefusedOrValid(await outcome(firebase, token), token, undefined, `FirebaseIdTokenVerifier (${what})`);
      const worst = Math.max(await minDurationMs(() => google(token)), await minDurationMs(() => firebase(token)));
      // Typically well under 1 ms; 5 ms leaves room for the other jobs on this 2-core machine.
      if (worst > 5) throw new Error(`refusing ${what} took ${worst.toFixed(2)} ms`);
    }
  });

  it('the event loop never stalled during the runs', () => {
    const { maxMs, p99Ms } = monitor.stop();
    // Each run yields to the loop, so the worst delay is the worst single run (plus GC). Generous bound.
    expect(maxMs).toBeLessThan(200);
    expect(p99Ms).toBeLessThan(100);
  });
});
