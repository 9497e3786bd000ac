import { InvalidTokenError } from '../errors';
import { peekJwt } from '../jwt/decode';

/**
 * The kinds of token a client may send to the wrong endpoint, told apart by what they claim (never
 * trusted: this only picks the words of a refusal):
 * - a Google ID token: iss `accounts.google.com` or `https://accounts.google.com` (GOOGLE_ISSUERS);
 * - a Firebase ID token: iss `https://securetoken.google.com/<project>` (firebaseIssuer);
 * - an Auth Emulator token: a Firebase ID token with `alg: "none"` and an empty signature.
 */
export type TokenKind = 'google' | 'firebase' | 'emulator';

const GOOGLE_ISS = new Set(['accounts.google.com', 'https://accounts.google.com']);
const FIREBASE_ISS_PREFIX = 'https://securetoken.google.com/';

const NAMES: Record<TokenKind, string> = {
  google: 'a Google ID token',
  firebase: 'a Firebase ID token',
  emulator: 'an unsigned Auth Emulator token',
};

/** What a token says it is, after parsing it (undefined when it does not parse or says nothing known). */
export function tokenKind(token: unknown): TokenKind | undefined {
  const peeked = peekJwt(token);
  const iss = peeked?.payload.iss;
  if (!peeked || typeof iss !== 'string') return undefined;
  const firebase = iss.startsWith(FIREBASE_ISS_PREFIX) && iss.length > FIREBASE_ISS_PREFIX.length;
  if (firebase && peeked.header.alg === 'none' && peeked.unsigned) return 'emulator';
  if (firebase) return 'firebase';
  return GOOGLE_ISS.has(iss) ? 'google' : undefined;
}

/** What a Firebase verifier without FIREBASE_AUTH_EMULATOR_HOST tells the sender of an emulator token. */
export const EMULATOR_TOKEN_REFUSAL = `this is ${NAMES.emulator}; set FIREBASE_AUTH_EMULATOR_HOST for local development`;

/**
 * For a token already refused by the verifier of `expected` tokens: when it is recognisably another
 * kind, a refusal that says so ("this is a Google ID token; send a Firebase ID token") to use
 * instead of the generic one. Still a 401 invalid_token; undefined when the generic one stands.
 * An Auth Emulator token at the Firebase verifier names the setting that accepts it
 * (EMULATOR_TOKEN_REFUSAL); with `emulator` (that setting is on) it is its own kind, so the check
 * that refused it speaks.
 */
export function otherKindRefusal(
  token: unknown,
  expected: 'google' | 'firebase',
  options: { emulator?: boolean } = {},
): InvalidTokenError | undefined {
  const kind = tokenKind(token);
  if (kind === undefined || kind === expected) return undefined;
  if (kind === 'emulator' && expected === 'firebase') {
    return options.emulator === true ? undefined : new InvalidTokenError(EMULATOR_TOKEN_REFUSAL, 'ERR_JWT_ALG');
  }
  return new InvalidTokenError(`this is ${NAMES[kind]}; send ${NAMES[expected]}`, kind === 'emulator' ? 'ERR_JWT_ALG' : 'ERR_CLAIM_ISS');
}
