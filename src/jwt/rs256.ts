import { type KeyObject, verify as cryptoVerify } from 'node:crypto';

/** The one algorithm the bridge accepts and produces. Never taken from the token. */
export const RS256 = 'RS256';

/**
 * RSASSA-PKCS1-v1_5 with SHA-256 over the signing input. The caller has pinned the key. The hot
 * path of every verification: node:crypto directly, not jose (BENCHMARKS.md measures why).
 */
export function verifyRs256(signingInput: string, signature: Buffer, key: KeyObject): boolean {
  try {
    return cryptoVerify('sha256', Buffer.from(signingInput), key, signature);
  } catch {
    return false;
  }
}
