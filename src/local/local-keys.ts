import { type KeyObject, createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A throwaway RSA key of local mode, persisted so tokens survive a restart. */
export interface LocalKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A short, stable kid: the first 16 bytes of the SHA-256 of the public key, hex. */
export function kidOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 32);
}

/** Loads `<dir>/<name>.pem`, or generates and writes it 0600 (the folder 0700). */
export function loadOrCreateKey(dir: string, name: string): LocalKey {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${name}.pem`);
  let privateKey: KeyObject;
  if (existsSync(file)) {
    privateKey = createPrivateKey(readFileSync(file));
  } else {
    privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  const publicKey = createPublicKey(privateKey);
  return { kid: kidOf(publicKey), privateKey, publicKey };
}
