import { KeyObject, X509Certificate, createPublicKey } from 'node:crypto';
import { KeySetFormatError } from '../errors';

const MIN_RSA_BITS = 2048;

function usableRsaKey(key: KeyObject): boolean {
  return (
    key.type === 'public' &&
    key.asymmetricKeyType === 'rsa' &&
    (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS
  );
}

function fromJwk(jwk: unknown): KeyObject | undefined {
  if (typeof jwk !== 'object' || jwk === null) return undefined;
  const k = jwk as Record<string, unknown>;
  if (k.kty !== 'RSA' || typeof k.n !== 'string' || typeof k.e !== 'string') return undefined;
  if (k.alg !== undefined && k.alg !== 'RS256') return undefined;
  if (k.use !== undefined && k.use !== 'sig') return undefined;
  try {
    const key = createPublicKey({ key: { kty: 'RSA', n: k.n, e: k.e }, format: 'jwk' });
    return usableRsaKey(key) ? key : undefined;
  } catch {
    return undefined;
  }
}

function fromCertificate(pem: string): KeyObject | undefined {
  try {
    const key = new X509Certificate(pem).publicKey;
    return usableRsaKey(key) ? key : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads either key-set format Google publishes: a JWKS (`{"keys": [...]}`, as at
 * oauth2/v3/certs) or an x509 map (`{"<kid>": "-----BEGIN CERTIFICATE-----..."}`, as for
 * securetoken). Entries that are not RS256-capable RSA keys of at least 2048 bits are skipped;
 * a document with no usable key at all is an error.
 */
export function parseKeySet(doc: unknown): { keys: Map<string, KeyObject>; skipped: number } {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new KeySetFormatError('key set is not a JSON object');
  }
  const keys = new Map<string, KeyObject>();
  let skipped = 0;
  const record = doc as Record<string, unknown>;
  if (Array.isArray(record.keys)) {
    for (const jwk of record.keys) {
      const kid = (jwk as { kid?: unknown } | null)?.kid;
      const key = typeof kid === 'string' && kid !== '' ? fromJwk(jwk) : undefined;
      if (key && typeof kid === 'string') keys.set(kid, key);
      else skipped += 1;
    }
  } else {
    for (const [kid, pem] of Object.entries(record)) {
      const key = kid !== '' && typeof pem === 'string' ? fromCertificate(pem) : undefined;
      if (key) keys.set(kid, key);
      else skipped += 1;
    }
  }
  if (keys.size === 0) throw new KeySetFormatError(`key set holds no usable RS256 key (${skipped} skipped)`);
  return { keys, skipped };
}
