import { sign as cryptoSign } from 'node:crypto';
import type { CryptoSigner, SigningKey } from '../auth/crypto-signer';
import type { ServiceAccountKey } from './service-account-key';

/** RS256 (RSASSA-PKCS1-v1_5, SHA-256) on libuv's thread pool, so the event loop keeps serving while tokens are minted. */
function signRs256(data: Buffer, key: ServiceAccountKey): Promise<{ signature: Buffer; kid: string }> {
  return new Promise((resolve, reject) => {
    cryptoSign('sha256', data, key.privateKey, (err, signature) => {
      if (err) reject(err);
      else resolve({ signature, kid: key.privateKeyId });
    });
  });
}

/**
 * Signs with a service-account private key held in memory. The key can be swapped at any time
 * (key rotation, by the keyring watcher); a token in progress finishes with the key it started with.
 */
export class KeyFileSigner implements CryptoSigner {
  readonly algorithm = 'RS256';

  constructor(private key: ServiceAccountKey | undefined) {}

  isReady(): boolean {
    return this.key !== undefined;
  }

  setKey(key: ServiceAccountKey): void {
    this.key = key;
  }

  currentKey(): ServiceAccountKey | undefined {
    return this.key;
  }

  signingKey(): SigningKey | undefined {
    const key = this.key;
    if (!key) return undefined;
    return { accountEmail: key.clientEmail, kid: key.privateKeyId, sign: (data) => signRs256(data, key) };
  }
}
