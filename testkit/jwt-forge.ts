/**
 * Token forging helpers for the verifier tests, written independently of src/ (node:crypto and
 * jose only), so a bug in src/jwt cannot hide itself by being used to build its own inputs.
 */
import { type KeyObject, createHmac, sign as cryptoSign } from 'node:crypto';
import { SignJWT } from 'jose';
import pino from 'pino';
import { InvalidTokenError } from '../src/errors';
import { KeySetCache } from '../src/jwt/key-set-cache';
import { StaticKeySetSource } from '../src/jwt/key-set-source';
import type { Clock } from '../src/clock';
import type { TestKey } from './keys';

export function b64u(data: string | Buffer | unknown): string {
  if (Buffer.isBuffer(data)) return data.toString('base64url');
  if (typeof data === 'string') return Buffer.from(data, 'utf8').toString('base64url');
  return Buffer.from(JSON.stringify(data), 'utf8').toString('base64url');
}

/** A token signed by jose, as Google and securetoken issue them. */
export function joseToken(
  claims: Record<string, unknown>,
  key: TestKey,
  header: Record<string, unknown> = {},
  alg = 'RS256',
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey);
}

/** RSASSA-PKCS1-v1_5 over arbitrary header/payload (header taken verbatim: any alg label, crit, ...). */
export function rawRsaToken(
  header: Record<string, unknown>,
  payload: unknown,
  privateKey: KeyObject,
  hash: 'sha256' | 'sha512' = 'sha256',
): string {
  const input = `${b64u(header)}.${b64u(payload)}`;
  return `${input}.${b64u(cryptoSign(hash, Buffer.from(input), privateKey))}`;
}

/** HMAC-SHA256 with an arbitrary secret (the RS256/HS256 key-confusion attack uses the public key PEM). */
export function hmacToken(header: Record<string, unknown>, payload: unknown, secret: string | Buffer): string {
  const input = `${b64u(header)}.${b64u(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/**
 * An unsigned token as the Firebase Auth Emulator issues them: `{"alg":"none","typ":"JWT"}` (or the
 * header given, verbatim), the payload, and an empty signature part.
 */
export function unsignedToken(payload: unknown, header: Record<string, unknown> = { alg: 'none', typ: 'JWT' }): string {
  return `${b64u(header)}.${b64u(payload)}.`;
}

/** Re-encodes the payload of a signed token, keeping its header and signature. */
export function tamperPayload(token: string, change: (payload: Record<string, unknown>) => void): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  change(payload);
  return `${h}.${b64u(payload)}.${s}`;
}

export function silentLogger(): pino.Logger {
  return pino({ level: 'silent' });
}

export function staticCache(keys: TestKey[], clock: Clock): KeySetCache {
  return new KeySetCache({
    source: new StaticKeySetSource('test-keys', new Map(keys.map((k) => [k.kid, k.publicKey]))),
    logger: silentLogger(),
    clock,
    cooldownMs: 30_000,
    maxStaleMs: 3_600_000,
  });
}

/** Awaits a promise that must reject with an InvalidTokenError (with `code`, if given). */
export async function expectInvalidToken(promise: Promise<unknown>, code?: string): Promise<InvalidTokenError> {
  let error: unknown;
  try {
    await promise;
  } catch (err) {
    error = err;
  }
  if (error === undefined) throw new Error(`expected an InvalidTokenError${code ? ` (${code})` : ''}, but the token was accepted`);
  expect(error).toBeInstanceOf(InvalidTokenError);
  if (code !== undefined) expect((error as InvalidTokenError).code).toBe(code);
  return error as InvalidTokenError;
}

/** Deterministic PRNG (mulberry32), so a failing fuzz case is reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytesFrom(rand: () => number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += 1) out[i] = Math.floor(rand() * 256);
  return out;
}

/** Whether `mutated` decodes to exactly the same header string, payload string and signature bytes. */
export function sameTokenBytes(original: string, mutated: string): boolean {
  const a = original.split('.');
  const b = mutated.split('.');
  if (b.length !== 3 || a[0] !== b[0] || a[1] !== b[1]) return false;
  const sig = b[2] as string;
  if (!/^[A-Za-z0-9_-]+$/.test(sig) || sig.length % 4 === 1) return false;
  return Buffer.from(sig, 'base64url').equals(Buffer.from(a[2] as string, 'base64url'));
}
