import { InvalidTokenError } from '../errors';
import { decodeBase64Url, decodeBase64UrlInto } from './base64url';

export type JsonObject = Record<string, unknown>;

export interface DecodedJwt {
  header: JsonObject;
  payload: JsonObject;
  /** `base64url(header) + "." + base64url(payload)`, the bytes the signature covers. */
  signingInput: string;
  signature: Buffer;
}

/** Tokens longer than this are refused before any parsing (Google's are ~1 KiB). */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/** Where a header or payload is decoded before it is parsed: never held past one synchronous parseSegment. */
const SEGMENT_SCRATCH = Buffer.alloc(MAX_TOKEN_LENGTH);

function parseSegment(segment: string, what: string): JsonObject {
  const length = decodeBase64UrlInto(segment, SEGMENT_SCRATCH);
  if (length === undefined || length === 0) throw new InvalidTokenError(`malformed token ${what}`, 'ERR_JWT_MALFORMED');
  let value: unknown;
  try {
    value = JSON.parse(SEGMENT_SCRATCH.toString('utf8', 0, length));
  } catch {
    throw new InvalidTokenError(`malformed token ${what}`, 'ERR_JWT_MALFORMED');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidTokenError(`malformed token ${what}`, 'ERR_JWT_MALFORMED');
  }
  return value as JsonObject;
}

/**
 * Splits a compact JWS into its parts without trusting anything in it. Never throws anything
 * but InvalidTokenError, whatever the input.
 */
export function decodeJwt(token: unknown): DecodedJwt {
  if (typeof token !== 'string' || token.length === 0) {
    throw new InvalidTokenError('token must be a non-empty string', 'ERR_JWT_MALFORMED');
  }
  if (token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError('token is too long', 'ERR_JWT_MALFORMED');
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (first < 0 || second < 0 || token.indexOf('.', second + 1) !== -1) {
    throw new InvalidTokenError('token is not a compact JWS (three dot-separated parts)', 'ERR_JWT_MALFORMED');
  }
  const header = parseSegment(token.slice(0, first), 'header');
  const payload = parseSegment(token.slice(first + 1, second), 'payload');
  const signature = decodeBase64Url(token.slice(second + 1));
  if (!signature || signature.length === 0) {
    throw new InvalidTokenError('malformed token signature', 'ERR_JWT_MALFORMED');
  }
  return { header, payload, signingInput: token.slice(0, second), signature };
}

/**
 * An unsigned JWT as the Firebase Auth Emulator issues them (`alg: "none"`, an empty signature),
 * parsed as strictly as decodeJwt: same length limit, three parts, canonical base64url, JSON objects;
 * the signature part must be empty and the header's alg exactly "none". Only for a verifier told
 * to accept the emulator's tokens (FIREBASE_AUTH_EMULATOR_HOST). Never throws anything but InvalidTokenError.
 */
export function decodeUnsignedJwt(token: unknown): { header: JsonObject; payload: JsonObject } {
  if (typeof token !== 'string' || token.length === 0) {
    throw new InvalidTokenError('token must be a non-empty string', 'ERR_JWT_MALFORMED');
  }
  if (token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError('token is too long', 'ERR_JWT_MALFORMED');
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (first < 0 || second !== token.length - 1) {
    throw new InvalidTokenError('token is not an unsigned JWT (three dot-separated parts, the last one empty)', 'ERR_JWT_MALFORMED');
  }
  const header = parseSegment(token.slice(0, first), 'header');
  const payload = parseSegment(token.slice(first + 1, second), 'payload');
  if (header.alg !== 'none') throw new InvalidTokenError('an unsigned token must say alg "none"', 'ERR_JWT_ALG');
  return { header, payload };
}

/**
 * The header and payload of a compact JWS, parsed as strictly as decodeJwt (same length limit,
 * canonical base64url, JSON objects) except that the signature may be empty; undefined when they
 * do not parse. Never throws. Only for telling what kind of token a refused one is, never for
 * trusting anything in it.
 */
export function peekJwt(token: unknown): { header: JsonObject; payload: JsonObject; unsigned: boolean } | undefined {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return { header: parseSegment(parts[0] as string, 'header'), payload: parseSegment(parts[1] as string, 'payload'), unsigned: parts[2] === '' };
  } catch {
    return undefined;
  }
}
