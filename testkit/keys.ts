import { type KeyObject, createHash, generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

export interface TestKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

let counter = 0;

/** A fresh RSA key pair with a unique kid. Real crypto, generated at test time. */
export function generateTestKey(bits = 2048): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  counter += 1;
  const kid = `${createHash('sha1').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 20)}${counter}`;
  return { kid, privateKey, publicKey };
}

/** A self-signed X.509 certificate (PEM) for a key, as Google publishes securetoken keys. */
export function selfSignedCertificate(key: TestKey, commonName = 'securetoken.system.gserviceaccount.com'): string {
  const forgePrivate = forge.pki.privateKeyFromPem(key.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string);
  const forgePublic = forge.pki.publicKeyFromPem(key.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forgePublic;
  cert.serialNumber = `0${Math.floor(Math.random() * 1e12).toString(16)}`;
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 14 * 86_400_000);
  const attrs = [{ name: 'commonName', value: commonName }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(forgePrivate, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** The public key as a JWK with kid, alg and use, as at Google's oauth2/v3/certs. */
export function publicJwk(key: TestKey): Record<string, unknown> {
  const jwk = key.publicKey.export({ format: 'jwk' });
  return { ...jwk, kid: key.kid, alg: 'RS256', use: 'sig' };
}
