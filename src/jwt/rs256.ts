import { KeyObject, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { encodeBase64Url } from './base64url';
import type { JsonObject } from './decode';

/** The one algorithm the bridge accepts and produces. Never taken from the token. */
export const RS256 = 'RS256';

/** RSASSA-PKCS1-v1_5 with SHA-256 over the signing input. The caller has pinned the key. */
export function verifyRs256(signingInput: string, signature: Buffer, key: KeyObject): boolean {
  try {
    return cryptoVerify('sha256', Buffer.from(signingInput), key, signature);
  } catch {
    return false;
  }
}

/**
 * Signs a JWT with RS256. The RSA work runs on libuv's thread pool (the callback form of
 * crypto.sign), so the event loop keeps serving while tokens are minted.
 */
export function signRs256Jwt(header: JsonObject, payload: JsonObject, key: KeyObject): Promise<string> {
  const signingInput = `${encodeBase64Url(JSON.stringify({ ...header, alg: RS256 }))}.${encodeBase64Url(
    JSON.stringify(payload),
  )}`;
  return new Promise((resolve, reject) => {
    cryptoSign('sha256', Buffer.from(signingInput), key, (err, signature) => {
      if (err) reject(err);
      else resolve(`${signingInput}.${encodeBase64Url(signature)}`);
    });
  });
}
