import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { VaultIntegrityError } from '../errors';

/** A refresh token sealed at rest: AES-256-GCM under data key `keyId`, the uid bound as additional data. */
export interface Envelope {
  keyId: string;
  /** 12 random bytes. */
  nonce: Buffer;
  ciphertext: Buffer;
  /** 16 bytes. */
  tag: Buffer;
}

export interface DataKey {
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

const AAD_PREFIX = 'firebridge-vault-v1:';

function aad(uid: string): Buffer {
  return Buffer.from(`${AAD_PREFIX}${uid}`, 'utf8');
}

export function seal(key: DataKey, uid: string, plaintext: string): Envelope {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce);
  cipher.setAAD(aad(uid));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { keyId: key.id, nonce, ciphertext, tag: cipher.getAuthTag() };
}

/** The plaintext, or VaultIntegrityError (wrong uid, tampered bytes, wrong key). */
export function open(key: DataKey, uid: string, envelope: Envelope): string {
  try {
    if (envelope.nonce.length !== 12 || envelope.tag.length !== 16) throw new Error('bad sizes');
    const decipher = createDecipheriv('aes-256-gcm', key.key, envelope.nonce, { authTagLength: 16 });
    decipher.setAAD(aad(uid));
    decipher.setAuthTag(envelope.tag);
    return Buffer.concat([decipher.update(envelope.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new VaultIntegrityError(`the vault row of ${uid} does not decrypt (tampered, moved from another uid, or a wrong data key)`);
  }
}

/** A check value of a data key (HMAC, not the key): the database remembers it to catch a wrong key file at start. */
export function keyCheck(key: DataKey): string {
  return createHmac('sha256', key.key).update('firebridge vault key check v1').digest('base64url');
}
